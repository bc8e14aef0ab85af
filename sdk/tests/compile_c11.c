/* Every public header compiles as C11 with -pedantic -Werror. */
#include <aviary/aviary.h>
#include <aviary/version.h>
int aviary_sdk_compile_c11(void);
int aviary_sdk_compile_c11(void) { return AV_ABI_MAJOR; }
