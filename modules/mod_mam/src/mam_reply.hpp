// XEP-0313 replies as XML text: result messages, <fin/>, metadata; message tombstones
// (XEP-0424). Pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mod_mam {

struct Page {
  std::vector<int64_t> ids;  // chronological
  bool complete = false;
  int64_t count = -1, first_index = -1;  // -1: not counted
};

// <message from=archive to=requester><result xmlns=ns queryid=.. id=..><forwarded ...>
// <delay stamp=../>stored</forwarded></result></message>
std::string result_message(std::string_view ns, std::string_view queryid, std::string_view archive_jid,
                           std::string_view to, int64_t id, std::string_view stored_xml);
// <fin xmlns=ns [complete='true']><set xmlns=rsm>first/last/count</set></fin>
std::string fin_xml(std::string_view ns, const Page& page);
// <metadata xmlns='urn:xmpp:mam:2'>[<start id ts/><end id ts/>]</metadata>
std::string metadata_xml(std::optional<int64_t> first, std::optional<int64_t> last);

// A stored <message ...> with xmlns='jabber:client' on its root when it has no xmlns (the
// archive stores messages as serialized, where the namespace was implicit).
std::string with_client_ns(std::string_view xml);
void append_with_client_ns(std::string& out, std::string_view xml);

// XEP-0424: the id a retraction refers to (v1 <retract id=''/>, or v0 <apply-to id=''>
// <retract/></apply-to>), with its namespace. nullopt: not a retraction.
struct Retraction {
  std::string id;
  std::string ns;  // urn:xmpp:message-retract:1 or :0
};
struct RetractView {  // what the caller read off the message
  std::string v1_id;             // <retract xmlns=..:1 id=''/>
  bool has_v1 = false;
  std::string v0_apply_to_id;    // <apply-to xmlns='urn:xmpp:fasten:0' id=''> with a v0 <retract/>
  bool has_v0 = false;
};
std::optional<Retraction> retraction_of(const RetractView& v);

// A tombstone for a retracted message: the original's root attributes (from, to, type, id)
// and origin-id kept, the content replaced by <retracted stamp=''/> of the retraction's ns.
std::string tombstone_xml(const std::vector<std::pair<std::string, std::string>>& root_attrs,
                          std::string_view origin_id, const Retraction& r, int64_t now_us);

}  // namespace mod_mam
