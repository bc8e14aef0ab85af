# aviary_add_module(<mod_name> SOURCES <files...> [LIBRARIES <libs...>])
# Builds an Aviary module: a MODULE library named exactly <mod_name>.so, hidden
# visibility, only av_module_entry exported, no undefined symbols (modules link nothing
# from the host: everything arrives through the host API table).
set(_AVIARY_MODULE_CMAKE_DIR ${CMAKE_CURRENT_LIST_DIR} CACHE INTERNAL "where AviaryModule.cmake lives")
function(aviary_add_module name)
  cmake_parse_arguments(M "" "" "SOURCES;LIBRARIES" ${ARGN})
  add_library(${name} MODULE ${M_SOURCES})
  set_target_properties(${name} PROPERTIES PREFIX "" C_VISIBILITY_PRESET hidden CXX_VISIBILITY_PRESET hidden
                                          VISIBILITY_INLINES_HIDDEN ON)
  if(TARGET aviary_sdk)
    target_link_libraries(${name} PRIVATE aviary_sdk)
  else()
    target_link_libraries(${name} PRIVATE aviary::aviary_sdk)
  endif()
  if(M_LIBRARIES)
    target_link_libraries(${name} PRIVATE ${M_LIBRARIES})
  endif()
  target_link_options(${name} PRIVATE "-Wl,--version-script=${_AVIARY_MODULE_CMAKE_DIR}/aviary-module.map"
                      "-Wl,--no-undefined")
  if(DEFINED AVIARY_MODULE_DIR)
    install(TARGETS ${name} LIBRARY DESTINATION ${AVIARY_MODULE_DIR})
  endif()
endfunction()
