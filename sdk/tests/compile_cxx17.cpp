// Every public header, and the C++ layer, compiles as C++17 with -pedantic -Werror.
#include <aviary/aviary.h>
#include <aviary/aviary.hpp>
#include <aviary/version.h>
int aviary_sdk_compile_cxx17() { return AV_ABI_MINOR; }
