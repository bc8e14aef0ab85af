// mod_mam's admin commands (aviaryctl, later GraphQL): MongooseIM's stanza getLastMessages,
// and mam removeArchive / mam stats.
#pragma once

#include "mam_core.hpp"

namespace mod_mam {

void register_commands(av::Commands& cmds, std::shared_ptr<Core> core);

// JSON of getLastMessages' answer, rows chronological.
struct LastMessage {
  int64_t id;
  std::string from, xml;
};
std::string last_messages_json(const std::vector<LastMessage>& rows, uint32_t limit);

}  // namespace mod_mam
