# ABI gate (DESIGN.md B6): rebuild sdk/abi/probe.c, dump it with abidw and compare it with
# the committed baseline with abidiff, using sdk/abi/sdk.abignore.
#
#   cmake -DSDK_DIR=<repo>/sdk -DWORK_DIR=<scratch dir> [-DCC=<c compiler>]
#         [-DUPDATE_BASELINE=ON] -P sdk/abi/check_abi.cmake
#
# UPDATE_BASELINE=ON rewrites sdk/abi/baseline-<AV_ABI_MAJOR>.abi.xml instead of
# comparing: do that only in a commit that bumps AV_ABI_MINOR (tail additions) or starts a
# new AV_ABI_MAJOR. When abidw/abidiff are not installed (Debian: abigail-tools) or the
# machine is not x86_64, the check prints "ABI check SKIPPED: <why>" and CTest reports the
# test as skipped, not passed.
cmake_minimum_required(VERSION 3.20)
foreach(v SDK_DIR WORK_DIR)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "check_abi.cmake: -D${v}=... is required")
  endif()
endforeach()
if(NOT DEFINED CC OR CC STREQUAL "")
  set(CC cc)
endif()

# Prints the marker the test's SKIP_REGULAR_EXPRESSION turns into "Skipped" (the caller
# then returns normally).
function(skip why)
  message("ABI check SKIPPED: ${why}")
endfunction()

set(inc ${SDK_DIR}/include)
set(abi_dir ${SDK_DIR}/abi)

# 1. Coverage: every public struct and extension id of the released headers is in the probe.
file(READ ${abi_dir}/probe.c probe_src)
file(GLOB_RECURSE headers RELATIVE ${inc} ${inc}/aviary/*.h)
list(FILTER headers EXCLUDE REGEX "/draft/")
set(missing "")
foreach(h ${headers})
  file(READ ${inc}/${h} text)
  string(REGEX MATCHALL "struct av_[a-z0-9_]+ \\{" structs "${text}")
  foreach(s ${structs})
    string(REGEX REPLACE "struct (av_[a-z0-9_]+) \\{" "\\1" name "${s}")
    if(NOT probe_src MATCHES "[^a-z0-9_]${name}[^a-z0-9_]")
      list(APPEND missing "struct ${name} (${h})")
    endif()
  endforeach()
  string(REGEX MATCHALL "#define AV_EXT_[A-Z0-9_]+ \"" ids "${text}")
  foreach(d ${ids})
    string(REGEX REPLACE "#define (AV_EXT_[A-Z0-9_]+) \"" "\\1" name "${d}")
    if(NOT probe_src MATCHES "[^A-Z0-9_]${name}[^A-Z0-9_]")
      list(APPEND missing "extension id ${name} (${h})")
    endif()
  endforeach()
  string(REGEX MATCHALL "\\(\\*av_[a-z0-9_]+_fn\\)" fns "${text}")
  foreach(f ${fns})
    string(REGEX REPLACE "\\(\\*(av_[a-z0-9_]+)\\)" "\\1" name "${f}")
    if(NOT probe_src MATCHES "[^a-z0-9_]${name}[^a-z0-9_]")
      list(APPEND missing "function type ${name} (${h})")
    endif()
  endforeach()
endforeach()
if(missing)
  list(JOIN missing "\n  " m)
  message(FATAL_ERROR "ABI check FAILED: sdk/abi/probe.c does not cover:\n  ${m}\n"
                      "Add them to aviary_abi_probe() (append parameters at the end).")
endif()
list(LENGTH headers nh)
message(STATUS "probe covers every public struct, function type and extension id of ${nh} headers")

# 2. Which baseline.
file(STRINGS ${inc}/aviary/abi.h major_line REGEX "^#define AV_ABI_MAJOR [0-9]+")
string(REGEX REPLACE "^#define AV_ABI_MAJOR ([0-9]+).*" "\\1" major "${major_line}")
set(baseline ${abi_dir}/baseline-${major}.abi.xml)

# 3. Tools and platform (the baseline is the x86_64 ABI).
find_program(ABIDW abidw)
find_program(ABIDIFF abidiff)
find_program(PYTHON3 NAMES python3 python)
if(NOT ABIDW OR NOT ABIDIFF)
  skip("abidw/abidiff not found (install abigail-tools); only the layout _Static_asserts ran")
  return()
endif()
if(NOT PYTHON3)
  skip("python3 not found (needed by abi_prefix_check.py); only the layout _Static_asserts ran")
  return()
endif()
execute_process(COMMAND uname -m OUTPUT_VARIABLE arch OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT arch STREQUAL "x86_64")
  skip("the baseline describes x86_64, this machine is ${arch}")
  return()
endif()

# 4. Rebuild the probe (debug info is what abidw reads) and dump it. Locations are kept
#    short and the compilation directory out, so the dump does not depend on the checkout.
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})
set(lib ${WORK_DIR}/libaviary_abi_probe.so)
execute_process(COMMAND ${CC} -std=c11 -Wall -Wextra -pedantic -Werror -g -Og -shared -fPIC
                        -I${inc} -o ${lib} ${abi_dir}/probe.c
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "ABI check FAILED: cannot build the probe:\n${out}")
endif()
set(dump_args --headers-dir ${inc} --no-comp-dir-path --no-corpus-path --short-locs)
if(UPDATE_BASELINE)
  set(out_xml ${baseline})
else()
  set(out_xml ${WORK_DIR}/current.abi.xml)
endif()
execute_process(COMMAND ${ABIDW} ${dump_args} --out-file ${out_xml} ${lib}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "ABI check FAILED: abidw exited with ${rc}:\n${out}")
endif()
if(UPDATE_BASELINE)
  message(STATUS "wrote ${baseline}: commit it together with the AV_ABI_MINOR/MAJOR bump")
  return()
endif()

# 5. Compare. abidiff status bits: 1 tool error, 2 usage, 4 ABI change, 8 incompatible.
if(NOT EXISTS ${baseline})
  message(FATAL_ERROR "ABI check FAILED: no baseline ${baseline} for ABI major ${major}; "
                      "create it with -DUPDATE_BASELINE=ON")
endif()
execute_process(COMMAND ${ABIDIFF} --suppressions ${abi_dir}/sdk.abignore ${baseline} ${out_xml}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "ABI check FAILED (abidiff status ${rc}) against ${baseline}:\n${out}\n"
          "Only members appended at the end of a struct are allowed within ABI ${major}.x "
          "(and need an AV_ABI_MINOR bump with a regenerated baseline); anything else needs "
          "a new major.")
endif()
set(abidiff_out "${out}")

# 6. abidiff accepts, through the suppression, in-place changes of av_* structs that only
#    tail growth should get past (see abi_prefix_check.py): check the members strictly.
execute_process(COMMAND ${PYTHON3} ${abi_dir}/abi_prefix_check.py ${baseline} ${out_xml}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "ABI check FAILED against ${baseline}:\n${out}\n"
          "Released members never change; add new ones at the end (with an AV_ABI_MINOR bump), "
          "or start a new major.")
endif()
string(STRIP "${out}" out)
message(STATUS "${out}")
message(STATUS "ABI check passed: abidiff (with sdk.abignore) and the member check agree with ${baseline}")
if(abidiff_out)
  message(STATUS "abidiff: ${abidiff_out}")
endif()
