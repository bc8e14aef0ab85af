# aviary_add_module(<mod_name> SOURCES <files...> [LIBRARIES <libs...>] [NO_INSTALL])
# Builds an Aviary module: a MODULE library named exactly <mod_name>.so, hidden
# visibility, only av_module_entry exported (linker version script), no undefined symbols
# (modules link nothing from the host: everything arrives through the host API table).
#
# Works in the Aviary tree (target aviary_sdk) and from an installed SDK found with
# find_package(aviary-sdk) (imported target aviary::sdk). The version script is looked up
# next to this file, so it resolves from the installed location too.
#
# Install destination (unless NO_INSTALL, for test fixtures): ${AVIARY_MODULE_DIR} when the including project defines it (the
# Aviary tree does), else ${CMAKE_INSTALL_LIBDIR}/aviary/modules under the consumer's prefix.
set(_AVIARY_MODULE_CMAKE_DIR ${CMAKE_CURRENT_LIST_DIR} CACHE INTERNAL "where AviaryModule.cmake lives")
function(aviary_add_module name)
  cmake_parse_arguments(M "NO_INSTALL" "" "SOURCES;LIBRARIES" ${ARGN})
  if(M_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "aviary_add_module(${name}): unexpected arguments ${M_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT M_SOURCES)
    message(FATAL_ERROR "aviary_add_module(${name}): SOURCES is required")
  endif()
  if(NOT name MATCHES "^mod_[a-z0-9_]+$")
    message(FATAL_ERROR "aviary_add_module(${name}): module ids look like mod_[a-z0-9_]+ (the id, the target and the .so basename are the same)")
  endif()
  set(_map ${_AVIARY_MODULE_CMAKE_DIR}/aviary-module.map)
  if(NOT EXISTS ${_map})
    message(FATAL_ERROR "aviary_add_module(${name}): linker version script ${_map} not found")
  endif()
  add_library(${name} MODULE ${M_SOURCES})
  set_target_properties(${name} PROPERTIES PREFIX "" SUFFIX ".so"
                                          C_VISIBILITY_PRESET hidden CXX_VISIBILITY_PRESET hidden
                                          VISIBILITY_INLINES_HIDDEN ON
                                          LINK_DEPENDS ${_map})
  if(TARGET aviary_sdk)
    target_link_libraries(${name} PRIVATE aviary_sdk)
  elseif(TARGET aviary::sdk)
    target_link_libraries(${name} PRIVATE aviary::sdk)
  else()
    message(FATAL_ERROR "aviary_add_module(${name}): no aviary::sdk target; call find_package(aviary-sdk REQUIRED) first")
  endif()
  # The SDK headers are C11 and the C++ layer needs C++17.
  get_property(_langs GLOBAL PROPERTY ENABLED_LANGUAGES)
  if("C" IN_LIST _langs)
    target_compile_features(${name} PRIVATE c_std_11)
  endif()
  if("CXX" IN_LIST _langs)
    target_compile_features(${name} PRIVATE cxx_std_17)
  endif()
  if(M_LIBRARIES)
    target_link_libraries(${name} PRIVATE ${M_LIBRARIES})
  endif()
  target_link_options(${name} PRIVATE "-Wl,--version-script=${_map}" "-Wl,--no-undefined")
  if(M_NO_INSTALL)
    return()
  endif()
  if(DEFINED AVIARY_MODULE_DIR)
    set(_dest ${AVIARY_MODULE_DIR})
  else()
    include(GNUInstallDirs)
    set(_dest ${CMAKE_INSTALL_LIBDIR}/aviary/modules)
  endif()
  install(TARGETS ${name} LIBRARY DESTINATION ${_dest})
endfunction()
