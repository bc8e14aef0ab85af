#include "xml/framer.hpp"

#include <algorithm>
#include <array>
#include <new>
#include <string_view>

namespace aviary::xml {

namespace {

constexpr std::string_view kStreamsNs = "http://etherx.jabber.org/streams";
constexpr size_t kMaxHeader = 4095;  // stream header and XML declaration: < 4096 bytes
constexpr unsigned kDepthCap = 1024;
constexpr size_t kMaxUnit = UINT32_MAX - 1;  // unit offsets are 32-bit

enum : uint8_t { kWs = 1, kNameStart = 2, kName = 4, kPlain = 8, kHex = 16, kDigit = 32 };

// kPlain: bytes of text or attribute values that need no further look (ASCII, no markup).
constexpr std::array<uint8_t, 256> make_classes() {
  std::array<uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    uint8_t v = 0;
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    const bool digit = c >= '0' && c <= '9';
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') v |= kWs;
    // Non-ASCII lead bytes count as name characters; the UTF-8 check rejects invalid ones.
    if (letter || c == '_' || c == ':' || c >= 0x80) v |= kNameStart | kName;
    if (digit || c == '-' || c == '.') v |= kName;
    if (digit) v |= kDigit | kHex;
    if ((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) v |= kHex;
    if (((c >= 0x20 && c < 0x80) || (v & kWs)) && c != '<' && c != '&' && c != '>' && c != ']')
      v |= kPlain;
    t[size_t(c)] = v;
  }
  return t;
}
constexpr std::array<uint8_t, 256> kClass = make_classes();

bool is_xml_char(uint32_t cp) {
  return cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF) ||
         (cp >= 0xE000 && cp <= 0xFFFD) || (cp >= 0x10000 && cp <= 0x10FFFF);
}

uint32_t hex_value(unsigned char c) {
  if (c <= '9') return c - '0';
  return (c | 0x20) - 'a' + 10;
}

bool predefined_entity(const char* n, unsigned len) {
  const std::string_view s(n, len);
  return s == "lt" || s == "gt" || s == "amp" || s == "quot" || s == "apos";
}

bool is_ws(char c) { return kClass[static_cast<unsigned char>(c)] & kWs; }

// d is a complete, tokenizer-checked "<?...?>".
StreamError check_decl(std::string_view d) {
  std::string_view s = d.substr(2, d.size() - 4);
  if (s.substr(0, 3) != "xml" || (s.size() > 3 && !is_ws(s[3]))) return StreamError::restricted_xml;
  s.remove_prefix(3);
  int stage = 0;  // 0: expect version, 1: encoding or standalone, 2: standalone, 3: done
  size_t p = 0;
  for (;;) {
    const size_t before = p;
    while (p < s.size() && is_ws(s[p])) ++p;
    if (p == s.size()) break;
    if (p == before) return StreamError::not_well_formed;
    const size_t name_start = p;
    while (p < s.size() && s[p] >= 'a' && s[p] <= 'z') ++p;
    const std::string_view name = s.substr(name_start, p - name_start);
    while (p < s.size() && is_ws(s[p])) ++p;
    if (p == s.size() || s[p] != '=') return StreamError::not_well_formed;
    ++p;
    while (p < s.size() && is_ws(s[p])) ++p;
    if (p == s.size() || (s[p] != '\'' && s[p] != '"')) return StreamError::not_well_formed;
    const size_t close = s.find(s[p], p + 1);
    if (close == std::string_view::npos) return StreamError::not_well_formed;
    const std::string_view value = s.substr(p + 1, close - p - 1);
    p = close + 1;
    if (name == "version" && stage == 0) {
      if (value.size() < 3 || value.substr(0, 2) != "1." ||
          value.find_first_not_of("0123456789", 2) != std::string_view::npos)
        return StreamError::not_well_formed;
      stage = 1;
    } else if (name == "encoding" && stage == 1) {
      const bool utf8 = value.size() == 5 && (value[0] | 0x20) == 'u' && (value[1] | 0x20) == 't' &&
                        (value[2] | 0x20) == 'f' && value[3] == '-' && value[4] == '8';
      if (!utf8) return StreamError::unsupported_encoding;
      stage = 2;
    } else if (name == "standalone" && (stage == 1 || stage == 2)) {
      if (value != "yes" && value != "no") return StreamError::not_well_formed;
      stage = 3;
    } else {
      return StreamError::not_well_formed;
    }
  }
  return stage == 0 ? StreamError::not_well_formed : StreamError::none;
}

bool is_stream_root(const Element& el) {
  const std::string_view name = el.name;
  const size_t colon = name.find(':');
  const std::string_view prefix = colon == std::string_view::npos ? std::string_view() : name.substr(0, colon);
  const std::string_view local = colon == std::string_view::npos ? name : name.substr(colon + 1);
  if (local != "stream") return false;
  const std::string key = prefix.empty() ? std::string("xmlns") : "xmlns:" + std::string(prefix);
  const std::string* ns = el.attr(key);
  return ns && *ns == kStreamsNs;
}

}  // namespace

const char* stream_error_name(StreamError e) {
  switch (e) {
    case StreamError::none: return "";
    case StreamError::not_well_formed: return "not-well-formed";
    case StreamError::restricted_xml: return "restricted-xml";
    case StreamError::policy_violation: return "policy-violation";
    case StreamError::invalid_namespace: return "invalid-namespace";
    case StreamError::bad_format: return "bad-format";
    case StreamError::unsupported_encoding: return "unsupported-encoding";
  }
  return "";
}

void Framer::NameStack::push(Span s) {
  if (size_ == cap_) {
    auto grown = std::make_unique<Span[]>(size_t(cap_) * 2);
    std::copy(data(), data() + size_, grown.get());
    heap_ = std::move(grown);
    cap_ *= 2;
  }
  data()[size_++] = s;
}

void Framer::NameStack::clear() {
  size_ = 0;
  heap_.reset();
  cap_ = kInline;
}

// Marks the framer failed if a handler throws.
class Framer::HandlerGuard {
 public:
  explicit HandlerGuard(Framer& f) : f_(f) {}
  HandlerGuard(const HandlerGuard&) = delete;
  HandlerGuard& operator=(const HandlerGuard&) = delete;
  ~HandlerGuard() {
    if (!done_) f_.fail(StreamError::policy_violation, 0);
  }
  void done() { done_ = true; }

 private:
  Framer& f_;
  bool done_ = false;
};

Framer::Framer(Limits limits) : Framer(limits, false) {}

Framer::Framer(Limits limits, bool fragment) : fragment_(fragment) {
  set_limits(limits);
  reset();
}

void Framer::set_limits(Limits limits) {
  limits_ = limits;
  limits_.max_depth = std::min(limits_.max_depth, kDepthCap);
  if (in_unit_ && phase_ == Phase::stream) ulimit_ = std::min(limits_.max_stanza_size, kMaxUnit);
}

void Framer::reset() {
  std::string().swap(buf_);
  std::string().swap(hdr_name_);
  names_.clear();
  ustart_ = 0;
  uend_ = SIZE_MAX;
  ulimit_ = 0;
  depth_ = attrs_ = 0;
  need_ = aux_ = 0;
  state_ = St::top;
  phase_ = fragment_ ? Phase::stream : Phase::prolog;
  err_ = StreamError::none;
  in_unit_ = header_tag_ = closing_stream_ = false;
  decl_allowed_ = !fragment_;
}

void Framer::stop() { stop_ = true; }

StreamError Framer::fail(StreamError e, size_t at) {
  err_ = e;
  fail_at_ = at;
  std::string().swap(buf_);
  names_.clear();
  in_unit_ = false;
  uend_ = SIZE_MAX;
  return e;
}

void Framer::begin_unit(size_t i) {
  in_unit_ = true;
  ustart_ = i;
  ulimit_ = phase_ == Phase::prolog ? kMaxHeader : std::min(limits_.max_stanza_size, kMaxUnit);
  uend_ = ulimit_ > SIZE_MAX - i ? SIZE_MAX : i + ulimit_;
  depth_ = 0;
  header_tag_ = false;
}

void Framer::end_unit() {
  in_unit_ = false;
  uend_ = SIZE_MAX;
  std::string().swap(buf_);  // an idle connection holds no buffer
  names_.clear();
  depth_ = 0;
  header_tag_ = false;
  state_ = St::top;
}

// The complete unit ending at data_[i], contiguous (joined with buf_ if it began earlier).
void Framer::unit_bytes(size_t i, const char*& p, size_t& n) {
  if (buf_.empty()) {
    p = data_ + ustart_;
    n = i + 1 - ustart_;
  } else {
    buf_.append(data_ + ustart_, i + 1 - ustart_);
    p = buf_.data();
    n = buf_.size();
  }
}

// Namespaces-style QName: at most one ':', not first or last, and an NCName start after it.
bool Framer::name_char(unsigned char c) {
  if (c == ':') {
    if (prev_colon_ || colons_++) return false;
    prev_colon_ = true;
    return true;
  }
  if (prev_colon_ && !(kClass[c] & kNameStart)) return false;
  prev_colon_ = false;
  return true;
}

bool Framer::close_char(unsigned char c) {
  const uint32_t n = closing_stream_ ? uint32_t(hdr_name_.size()) : names_.top().len;
  if (cmp_ >= n) return false;
  const char expect = closing_stream_ ? hdr_name_[cmp_] : at(names_.top().off + cmp_);
  if (static_cast<unsigned char>(expect) != c) return false;
  ++cmp_;
  return true;
}

void Framer::entity_name_char(unsigned char c) {
  if (c < 0x80 && aux_ < 4)
    ent_[aux_++] = char(c);
  else
    ent_custom_ = true;  // too long or non-ASCII: cannot be one of the predefined five
}

StreamError Framer::start_tag_end(size_t i, Handler& h) {
  if (header_tag_) return stream_header(i, false, h);
  state_ = St::content;
  aux_ = 0;
  return StreamError::none;
}

StreamError Framer::close_tag_end(size_t i, Handler& h) {
  if (closing_stream_) {
    end_unit();
    phase_ = Phase::closed;
    HandlerGuard g(*this);
    h.on_stream_close();
    g.done();
    return StreamError::none;
  }
  names_.pop();
  return element_end(i, h);
}

StreamError Framer::element_end(size_t i, Handler& h) {
  if (--depth_ > 0) {
    state_ = St::content;
    aux_ = 0;
    return StreamError::none;
  }
  const char* p;
  size_t n;
  unit_bytes(i, p, n);
  auto el = detail::parse_with_rapidxml(p, n, diag_);
  end_unit();
  if (!el) return fail(StreamError::not_well_formed, i);
  HandlerGuard g(*this);
  h.on_element(std::move(el));
  g.done();
  return StreamError::none;
}

StreamError Framer::stream_header(size_t i, bool self_closed, Handler& h) {
  const char* p;
  size_t n;
  unit_bytes(i, p, n);
  std::string tag(p, n);
  if (!self_closed) {  // parse the start tag as an empty element
    tag.back() = '/';
    tag += '>';
  }
  auto el = detail::parse_with_rapidxml(tag.data(), tag.size(), diag_);
  end_unit();
  if (!el) return fail(StreamError::not_well_formed, i);
  if (!is_stream_root(*el)) return fail(StreamError::invalid_namespace, i);
  hdr_name_ = el->name;
  phase_ = Phase::stream;
  decl_allowed_ = false;
  {
    HandlerGuard g(*this);
    h.on_stream_open(std::move(*el));
    g.done();
  }
  if (self_closed && !stop_ && phase_ == Phase::stream) {
    phase_ = Phase::closed;
    HandlerGuard g(*this);
    h.on_stream_close();
    g.done();
  }
  return StreamError::none;
}

StreamError Framer::xml_decl(size_t i) {
  const char* p;
  size_t n;
  unit_bytes(i, p, n);
  const StreamError e = check_decl(std::string_view(p, n));
  end_unit();
  if (e != StreamError::none) return fail(e, i);
  decl_allowed_ = false;
  return StreamError::none;
}

StreamError Framer::feed(const char* data, size_t len, Handler& h) {
  if (err_ != StreamError::none) return err_;
  stop_ = false;
  data_ = data;
  if (in_unit_) {  // continuing a unit whose earlier bytes are in buf_
    ustart_ = 0;
    uend_ = ulimit_ > buf_.size() ? ulimit_ - buf_.size() : 0;
  }
  try {
    return scan(data, len, h);
  } catch (const std::bad_alloc&) {
    return fail(StreamError::policy_violation, 0);
  }
}

StreamError Framer::scan(const char* data, size_t len, Handler& h) {
  using E = StreamError;
  for (size_t i = 0; i < len; ++i) {
    if (i >= uend_) return fail(E::policy_violation, i);
    const auto c = static_cast<unsigned char>(data[i]);
    if (need_) {  // UTF-8 continuation byte: belongs to the token the lead byte started
      if ((c & 0xC0) != 0x80) return fail(E::not_well_formed, i);
      ucp_ = (ucp_ << 6) | (c & 0x3F);
      if (--need_ == 0 && (ucp_ < umin_ || !is_xml_char(ucp_))) return fail(E::not_well_formed, i);
      if (state_ == St::close_name && !close_char(c)) return fail(E::not_well_formed, i);
      continue;
    }
    const uint8_t cls = kClass[c];
    if (c < 0x20 && !(cls & kWs)) return fail(E::not_well_formed, i);
    if (c >= 0x80) {
      if (c >= 0xC2 && c <= 0xDF) {
        need_ = 1, ucp_ = c & 0x1F, umin_ = 0x80;
      } else if (c >= 0xE0 && c <= 0xEF) {
        need_ = 2, ucp_ = c & 0x0F, umin_ = 0x800;
      } else if (c >= 0xF0 && c <= 0xF4) {
        need_ = 3, ucp_ = c & 0x07, umin_ = 0x10000;
      } else {
        return fail(E::not_well_formed, i);
      }
    }
    E e = E::none;
    switch (state_) {
      case St::top:
        if (cls & kWs) break;
        if (c == '<' && phase_ != Phase::closed) {
          begin_unit(i);
          state_ = St::lt;
          break;
        }
        return fail(phase_ == Phase::stream && !fragment_ ? E::bad_format : E::not_well_formed, i);

      case St::lt:
        if (c == '/') {
          if (depth_ == 0 && (phase_ != Phase::stream || fragment_)) return fail(E::not_well_formed, i);
          closing_stream_ = depth_ == 0;
          cmp_ = 0;
          state_ = St::close_name;
        } else if (c == '!') {
          state_ = St::bang;
        } else if (c == '?') {
          if (phase_ != Phase::prolog || !decl_allowed_) return fail(E::restricted_xml, i);
          aux_ = 0;
          state_ = St::pi;
        } else if ((cls & kNameStart) && c != ':') {
          if (phase_ == Phase::prolog)
            header_tag_ = true;
          else if (++depth_ > limits_.max_depth)
            return fail(E::policy_violation, i);
          tok_off_ = off(i);
          colons_ = 0;
          prev_colon_ = false;
          attrs_ = 0;
          state_ = St::open_name;
        } else {
          return fail(E::not_well_formed, i);
        }
        break;

      case St::bang:
        if (c == '-') {
          state_ = St::bang_dash;
        } else if (c == '[' && depth_ > 0) {
          aux_ = 0;
          state_ = St::cdata_open;
        } else if (c >= 'A' && c <= 'Z') {  // <!DOCTYPE, <!ENTITY, ...
          return fail(E::restricted_xml, i);
        } else {
          return fail(E::not_well_formed, i);
        }
        break;

      case St::bang_dash:
        return fail(c == '-' ? E::restricted_xml : E::not_well_formed, i);

      case St::cdata_open:
        if (c != static_cast<unsigned char>("CDATA["[aux_])) return fail(E::not_well_formed, i);
        if (++aux_ == 6) {
          aux_ = 0;
          state_ = St::cdata;
        }
        break;

      case St::cdata:  // aux_ counts trailing ']' (max 2)
        if (c == ']') {
          if (aux_ < 2) ++aux_;
        } else if (c == '>' && aux_ == 2) {
          aux_ = 0;
          state_ = St::content;
        } else {
          aux_ = 0;
        }
        break;

      case St::pi:  // aux_: previous byte was '?'
        if (c == '>' && aux_)
          e = xml_decl(i);
        else
          aux_ = c == '?';
        break;

      case St::open_name:
        if (cls & kName) {
          if (!name_char(c)) return fail(E::not_well_formed, i);
          break;
        }
        if (prev_colon_) return fail(E::not_well_formed, i);
        if (!header_tag_) names_.push({tok_off_, off(i) - tok_off_});
        if (cls & kWs)
          state_ = St::tag_ws;
        else if (c == '>')
          e = start_tag_end(i, h);
        else if (c == '/')
          state_ = St::empty_slash;
        else
          return fail(E::not_well_formed, i);
        break;

      case St::tag_ws:
        if (cls & kWs) break;
        if (c == '>') {
          e = start_tag_end(i, h);
        } else if (c == '/') {
          state_ = St::empty_slash;
        } else if ((cls & kNameStart) && c != ':') {
          if (++attrs_ > limits_.max_attrs) return fail(E::policy_violation, i);
          colons_ = 0;
          prev_colon_ = false;
          state_ = St::attr_name;
        } else {
          return fail(E::not_well_formed, i);
        }
        break;

      case St::attr_name:
        if (cls & kName) {
          if (!name_char(c)) return fail(E::not_well_formed, i);
          break;
        }
        if (prev_colon_) return fail(E::not_well_formed, i);
        if (c == '=')
          state_ = St::attr_eq;
        else if (cls & kWs)
          state_ = St::attr_name_ws;
        else
          return fail(E::not_well_formed, i);
        break;

      case St::attr_name_ws:
        if (c == '=')
          state_ = St::attr_eq;
        else if (!(cls & kWs))
          return fail(E::not_well_formed, i);
        break;

      case St::attr_eq:
        if (c == '\'' || c == '"') {
          quote_ = char(c);
          state_ = St::attr_val;
        } else if (!(cls & kWs)) {
          return fail(E::not_well_formed, i);
        }
        break;

      case St::attr_val:
        if (c == static_cast<unsigned char>(quote_)) {
          state_ = St::after_attr;
        } else if (c == '<') {
          return fail(E::not_well_formed, i);
        } else if (c == '&') {
          ent_ret_ = St::attr_val;
          state_ = St::ent_start;
        } else if (cls & kPlain) {
          const size_t stop = std::min(len, uend_);
          while (i + 1 < stop) {
            const auto d = static_cast<unsigned char>(data[i + 1]);
            if (!(kClass[d] & kPlain) || d == static_cast<unsigned char>(quote_)) break;
            ++i;
          }
        }
        break;

      case St::after_attr:
        if (cls & kWs)
          state_ = St::tag_ws;
        else if (c == '>')
          e = start_tag_end(i, h);
        else if (c == '/')
          state_ = St::empty_slash;
        else
          return fail(E::not_well_formed, i);
        break;

      case St::empty_slash:
        if (c != '>') return fail(E::not_well_formed, i);
        if (header_tag_) {
          e = stream_header(i, true, h);
        } else {
          names_.pop();
          e = element_end(i, h);
        }
        break;

      case St::close_name:
        if (c == '>' || (cls & kWs)) {
          const uint32_t n = closing_stream_ ? uint32_t(hdr_name_.size()) : names_.top().len;
          if (cmp_ != n) return fail(E::not_well_formed, i);
          if (c == '>')
            e = close_tag_end(i, h);
          else
            state_ = St::close_ws;
        } else if (!close_char(c)) {
          return fail(E::not_well_formed, i);
        }
        break;

      case St::close_ws:
        if (c == '>')
          e = close_tag_end(i, h);
        else if (!(cls & kWs))
          return fail(E::not_well_formed, i);
        break;

      case St::content:  // aux_ counts trailing ']' to catch "]]>"
        if (c == '<') {
          state_ = St::lt;
        } else if (c == '&') {
          ent_ret_ = St::content;
          state_ = St::ent_start;
        } else if (c == ']') {
          if (aux_ < 2) ++aux_;
        } else if (c == '>' && aux_ == 2) {
          return fail(E::not_well_formed, i);
        } else {
          aux_ = 0;
          if (cls & kPlain) {
            const size_t stop = std::min(len, uend_);
            while (i + 1 < stop && (kClass[static_cast<unsigned char>(data[i + 1])] & kPlain)) ++i;
          }
        }
        break;

      case St::ent_start:
        if (c == '#') {
          state_ = St::charref_start;
        } else if ((cls & kNameStart) && c != ':') {
          aux_ = 0;
          ent_custom_ = false;
          entity_name_char(c);
          state_ = St::ent_name;
        } else {
          return fail(E::not_well_formed, i);
        }
        break;

      case St::ent_name:  // aux_: stored length of the entity name
        if (c == ';') {
          if (ent_custom_ || !predefined_entity(ent_, aux_)) return fail(E::restricted_xml, i);
          aux_ = 0;
          state_ = ent_ret_;
          break;
        }
        if (!(cls & kName)) return fail(E::not_well_formed, i);
        entity_name_char(c);
        break;

      case St::charref_start:
        if (c == 'x') {
          state_ = St::charref_hex_start;
        } else if (cls & kDigit) {
          ref_ = c - '0';
          state_ = St::charref_dec;
        } else {
          return fail(E::not_well_formed, i);
        }
        break;

      case St::charref_hex_start:
        if (!(cls & kHex)) return fail(E::not_well_formed, i);
        ref_ = hex_value(c);
        state_ = St::charref_hex;
        break;

      case St::charref_dec:
      case St::charref_hex: {
        const bool hex = state_ == St::charref_hex;
        if (c == ';') {
          if (!is_xml_char(ref_)) return fail(E::not_well_formed, i);
          aux_ = 0;
          state_ = ent_ret_;
        } else if (cls & (hex ? kHex : kDigit)) {
          ref_ = std::min<uint32_t>(ref_ * (hex ? 16 : 10) + hex_value(c), 0x110000);  // saturate
        } else {
          return fail(E::not_well_formed, i);
        }
        break;
      }
    }
    if (e != E::none || stop_) return e;
  }
  if (in_unit_) buf_.append(data + ustart_, len - ustart_);
  return E::none;
}

}  // namespace aviary::xml
