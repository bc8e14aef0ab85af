// Aviary C++17 module layer (header-only): include this from C++ modules.
#pragma once
#include <aviary/aviary.h>
#include <aviary/cpp/guard.hpp>
#include <aviary/cpp/jid.hpp>
#include <aviary/cpp/datetime.hpp>
#include <aviary/cpp/xml.hpp>
#include <aviary/cpp/hook.hpp>
#include <aviary/cpp/stanza.hpp>
#include <aviary/cpp/sql.hpp>
#include <aviary/cpp/commands.hpp>
#include <aviary/cpp/module.hpp>
