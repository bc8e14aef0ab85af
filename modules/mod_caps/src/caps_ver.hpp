// mod_caps pure logic: the XEP-0115 verification string and hash (section 5), no host calls.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace caps {

inline constexpr std::string_view kNsCaps = "http://jabber.org/protocol/caps";
inline constexpr std::string_view kNsDiscoInfo = "http://jabber.org/protocol/disco#info";
inline constexpr std::string_view kNsData = "jabber:x:data";

struct Identity {
  std::string category, type, lang, name;
};
struct Field {
  std::string var, type;
  std::vector<std::string> values;
};
// An XEP-0128 extended information form (<x xmlns='jabber:x:data'/>), every field as given
// (FORM_TYPE included).
struct Form {
  std::vector<Field> fields;
};
// What a disco#info answer says.
struct DiscoInfo {
  std::vector<Identity> identities;
  std::vector<std::string> features;
  std::vector<Form> forms;
};

// The string S of XEP-0115 section 5.1 for info, or nullopt when the answer is ill-formed
// (section 5.4 step 3.3-3.5: two identical identities, two identical features, two forms
// with the same FORM_TYPE, a FORM_TYPE with different values). Forms without a FORM_TYPE
// field, or whose FORM_TYPE is not of type 'hidden', are left out (step 3.6). Sorting is
// "i;octet" (bytewise); identities by category, type, xml:lang, then name.
std::optional<std::string> verification_string(const DiscoInfo& info);

// The hash functions (IANA "Hash Function Textual Names") this module verifies: sha-1 (the
// mandatory one), sha-224, sha-256, sha-384, sha-512.
bool hash_supported(std::string_view hash);
// Base64 (RFC 4648 section 4, padded, no whitespace) of hash(data); "" when unsupported.
std::string hash_base64(std::string_view hash, std::string_view data);

enum class Check { valid, mismatch, ill_formed, unsupported_hash };
// XEP-0115 section 5.4 step 3: is `ver` the verification string of info under `hash`?
Check verify(std::string_view hash, std::string_view ver, const DiscoInfo& info);
const char* check_name(Check c);

// <iq type='get' from=domain to=jid id=id><query xmlns=disco#info node='node#ver'/></iq>
std::string disco_query_xml(std::string_view domain, std::string_view jid, std::string_view id,
                            std::string_view node, std::string_view ver);

// A JSON string literal (quotes included) of UTF-8 text.
std::string json_string(std::string_view s);

}  // namespace caps
