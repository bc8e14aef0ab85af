#include "caps_ver.hpp"

#include <aviary/cpp/xml.hpp>

#include <openssl/evp.h>

#include <algorithm>
#include <set>
#include <tuple>

namespace caps {

namespace {

const EVP_MD* digest(std::string_view hash) {
  if (hash == "sha-1") return EVP_sha1();
  if (hash == "sha-224") return EVP_sha224();
  if (hash == "sha-256") return EVP_sha256();
  if (hash == "sha-384") return EVP_sha384();
  if (hash == "sha-512") return EVP_sha512();
  return nullptr;
}

std::string base64(const unsigned char* p, size_t n) {
  static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((n + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < n; i += 3) {
    uint32_t v = (uint32_t(p[i]) << 16) | (uint32_t(p[i + 1]) << 8) | p[i + 2];
    out += k[v >> 18];
    out += k[(v >> 12) & 63];
    out += k[(v >> 6) & 63];
    out += k[v & 63];
  }
  if (i + 1 == n) {
    uint32_t v = uint32_t(p[i]) << 16;
    out += k[v >> 18];
    out += k[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == n) {
    uint32_t v = (uint32_t(p[i]) << 16) | (uint32_t(p[i + 1]) << 8);
    out += k[v >> 18];
    out += k[(v >> 12) & 63];
    out += k[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

const Field* form_type(const Form& f) {
  for (const auto& fl : f.fields)
    if (fl.var == "FORM_TYPE") return &fl;
  return nullptr;
}

}  // namespace

std::optional<std::string> verification_string(const DiscoInfo& info) {
  std::string s;
  // Identities: category, type, xml:lang, name; two identical ones make it ill-formed.
  std::vector<const Identity*> ids;
  for (const auto& i : info.identities) ids.push_back(&i);
  auto key = [](const Identity* i) { return std::tie(i->category, i->type, i->lang, i->name); };
  std::sort(ids.begin(), ids.end(), [&](const Identity* a, const Identity* b) { return key(a) < key(b); });
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i > 0 && key(ids[i]) == key(ids[i - 1])) return std::nullopt;
    s += ids[i]->category + "/" + ids[i]->type + "/" + ids[i]->lang + "/" + ids[i]->name + "<";
  }
  std::vector<std::string> features = info.features;
  std::sort(features.begin(), features.end());
  for (size_t i = 0; i < features.size(); ++i) {
    if (i > 0 && features[i] == features[i - 1]) return std::nullopt;
    s += features[i] + "<";
  }
  // Forms with a hidden FORM_TYPE, by FORM_TYPE.
  std::vector<std::pair<std::string, const Form*>> forms;
  for (const auto& f : info.forms) {
    const Field* ft = form_type(f);
    if (!ft || ft->values.empty()) continue;
    for (const auto& v : ft->values)
      if (v != ft->values.front()) return std::nullopt;  // FORM_TYPE with different values
    if (ft->type != "hidden") continue;
    forms.emplace_back(ft->values.front(), &f);
  }
  std::sort(forms.begin(), forms.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (size_t i = 0; i < forms.size(); ++i) {
    if (i > 0 && forms[i].first == forms[i - 1].first) return std::nullopt;
    s += forms[i].first + "<";
    std::vector<const Field*> fields;
    for (const auto& fl : forms[i].second->fields)
      if (fl.var != "FORM_TYPE") fields.push_back(&fl);
    std::stable_sort(fields.begin(), fields.end(), [](const Field* a, const Field* b) { return a->var < b->var; });
    for (const Field* fl : fields) {
      s += fl->var + "<";
      std::vector<std::string> values = fl->values;
      std::sort(values.begin(), values.end());
      for (const auto& v : values) s += v + "<";
    }
  }
  return s;
}

bool hash_supported(std::string_view hash) { return digest(hash) != nullptr; }

std::string hash_base64(std::string_view hash, std::string_view data) {
  const EVP_MD* md = digest(hash);
  if (!md) return {};
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (EVP_Digest(data.data(), data.size(), out, &n, md, nullptr) != 1) return {};
  return base64(out, n);
}

Check verify(std::string_view hash, std::string_view ver, const DiscoInfo& info) {
  if (!hash_supported(hash)) return Check::unsupported_hash;
  auto s = verification_string(info);
  if (!s) return Check::ill_formed;
  return hash_base64(hash, *s) == ver ? Check::valid : Check::mismatch;
}

const char* check_name(Check c) {
  switch (c) {
    case Check::valid: return "valid";
    case Check::mismatch: return "mismatch";
    case Check::ill_formed: return "ill-formed";
    case Check::unsupported_hash: return "unsupported hash";
  }
  return "?";
}

std::string disco_query_xml(std::string_view domain, std::string_view jid, std::string_view id,
                            std::string_view node, std::string_view ver) {
  return "<iq type='get' from='" + av::xml_escape(domain) + "' to='" + av::xml_escape(jid) + "' id='" +
         av::xml_escape(id) + "'><query xmlns='" + std::string(kNsDiscoInfo) + "' node='" + av::xml_escape(node) +
         "#" + av::xml_escape(ver) + "'/></iq>";
}

std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          static const char* hex = "0123456789abcdef";
          out += "\\u00";
          out += hex[c >> 4];
          out += hex[c & 15];
        } else {
          out += ch;
        }
    }
  }
  return out + "\"";
}

}  // namespace caps
