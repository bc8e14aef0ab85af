/* Aviary module SDK: everything a module needs. C11. */
#ifndef AVIARY_AVIARY_H
#define AVIARY_AVIARY_H

#include "abi.h"
#include "status.h"
#include "str.h"
#include "types.h"
#include "module.h"
#include "host.h"
#include "hooks.h"
#include "ext/stanza.h"
#include "ext/router.h"
#include "ext/storage_sql.h"
#include "ext/auth_provider.h"
#include "ext/commands.h"
#include "ext/timer.h"
#include "ext/sessions.h"

#endif
