/* Aviary release version (the product, not the ABI: see abi.h). C11. */
#ifndef AVIARY_VERSION_H
#define AVIARY_VERSION_H
#define AVIARY_VERSION "0.1.0"
#endif
