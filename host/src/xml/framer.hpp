// Incremental XMPP stream framer: splits a byte stream into the stream header, depth-1 elements
// and the stream close, enforcing well-formedness, restricted XML (RFC 6120 §11.1) and size limits.
//
// Error mapping (RFC 6120 §4.9.3):
//   not-well-formed      XML syntax errors, invalid UTF-8 or XML chars, mismatched tags,
//                        duplicate attributes, "]]>" in text, anything after </stream:stream>
//   restricted-xml       comments, processing instructions (other than a leading XML declaration),
//                        DOCTYPE/DTD markup, entity references other than the 5 predefined ones
//   policy-violation     element over max_stanza_size, nesting over max_depth, more than max_attrs
//                        attributes, stream header or XML declaration of 4096 bytes or more
//   invalid-namespace    root element is not "stream" in http://etherx.jabber.org/streams
//                        (a wrong root name is reported the same way as a wrong namespace)
//   bad-format           non-whitespace text between stanzas (well-formed XML, but not XMPP)
//   unsupported-encoding XML declaration with an encoding other than UTF-8
// A '>' in text is accepted, as XML allows. A UTF-8 byte order mark is not accepted. Names must be
// namespace-style QNames, but prefix bindings and namespace URIs are not checked.
#pragma once

#include "xml/element.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace aviary::xml {

// max_depth is capped at 1024 internally (parsing recurses once per level).
struct Limits {
  size_t max_stanza_size = 65536;
  unsigned max_depth = 32;
  unsigned max_attrs = 64;
};

enum class StreamError {
  none,
  not_well_formed,
  restricted_xml,
  policy_violation,  // stanza or header too big, too deep, too many attrs
  invalid_namespace,
  bad_format,
  unsupported_encoding
};

// RFC 6120 condition name, e.g. "not-well-formed"; "" for none.
const char* stream_error_name(StreamError);

class Framer {
 public:
  // Handlers should not throw. If one does, the exception propagates out of feed() and the
  // framer is left failed (policy_violation). A handler must not destroy the framer or call
  // feed() on it: call stop() and act after feed() returns.
  struct Handler {
    virtual ~Handler() = default;
    virtual void on_stream_open(Element&& header) = 0;         // start tag: name + attrs, no children
    virtual void on_element(std::unique_ptr<Element> el) = 0;  // each complete depth-1 element
    virtual void on_stream_close() = 0;                        // </stream:stream>
  };

  explicit Framer(Limits limits = {});

  // Feeds bytes as they arrive (any split). Calls h for each complete event, in order. Returns
  // none or the first error; a failed framer keeps returning that error until reset().
  // From inside a handler, reset() makes the rest of this call's bytes a NEW stream, and stop()
  // makes feed() return right away without looking at them.
  StreamError feed(const char* data, size_t len, Handler& h);
  void reset();  // expect a new stream header next; also clears a failure
  void stop();
  size_t buffered() const { return buf_.size(); }  // bytes held for an unfinished element
  void set_limits(Limits limits);

 private:
  friend std::unique_ptr<Element> parse_element(std::string_view, std::string*);

  enum class Phase : uint8_t { prolog, stream, closed };
  enum class St : uint8_t {
    top, lt, bang, bang_dash, cdata_open, cdata, pi,
    open_name, tag_ws, attr_name, attr_name_ws, attr_eq, attr_val, after_attr, empty_slash,
    close_name, close_ws, content,
    ent_start, ent_name, charref_start, charref_hex_start, charref_dec, charref_hex
  };
  struct Span {
    uint32_t off, len;  // offsets within the current unit's bytes
  };
  // Open element names. Inline storage for typical depths, so an idle framer holds no heap.
  class NameStack {
   public:
    void push(Span s);
    const Span& top() const { return data()[size_ - 1]; }
    void pop() { --size_; }
    void clear();

   private:
    static constexpr uint32_t kInline = 16;
    const Span* data() const { return heap_ ? heap_.get() : inline_; }
    Span* data() { return heap_ ? heap_.get() : inline_; }
    Span inline_[kInline] = {};
    std::unique_ptr<Span[]> heap_;
    uint32_t size_ = 0, cap_ = kInline;
  };
  class HandlerGuard;

  Framer(Limits limits, bool fragment);  // fragment: no stream header, used by parse_element
  StreamError fail(StreamError e, size_t at);
  void begin_unit(size_t i);
  void end_unit();
  void unit_bytes(size_t i, const char*& p, size_t& n);
  uint32_t off(size_t i) const { return uint32_t(buf_.size() + (i - ustart_)); }
  char at(uint32_t o) const {
    return o < buf_.size() ? buf_[o] : data_[ustart_ + (o - buf_.size())];
  }
  StreamError scan(const char* data, size_t len, Handler& h);
  bool name_char(unsigned char c);
  bool close_char(unsigned char c);
  void entity_name_char(unsigned char c);
  StreamError start_tag_end(size_t i, Handler& h);
  StreamError close_tag_end(size_t i, Handler& h);
  StreamError element_end(size_t i, Handler& h);
  StreamError stream_header(size_t i, bool self_closed, Handler& h);
  StreamError xml_decl(size_t i);

  Limits limits_;
  std::string buf_;       // bytes of the unfinished unit received in earlier feed() calls
  std::string hdr_name_;  // stream root name, to match the closing tag
  NameStack names_;
  std::string* diag_ = nullptr;  // parse_element(): receives RapidXML's message
  const char* data_ = nullptr;   // current feed() input
  size_t ustart_ = 0;            // index in data_ where this feed's part of the unit starts
  size_t uend_ = SIZE_MAX;       // index in data_ from which the unit would exceed ulimit_
  size_t ulimit_ = 0;            // size limit of the current unit
  size_t fail_at_ = 0;
  uint32_t tok_off_ = 0;  // where the current name started
  uint32_t cmp_ = 0;      // bytes of the expected closing name matched so far
  uint32_t ucp_ = 0, umin_ = 0;  // UTF-8 code point being decoded, smallest legal value
  uint32_t ref_ = 0;             // character reference value
  unsigned depth_ = 0, attrs_ = 0;
  St state_ = St::top, ent_ret_ = St::content;
  Phase phase_ = Phase::prolog;
  StreamError err_ = StreamError::none;
  uint8_t need_ = 0;  // UTF-8 continuation bytes still expected
  uint8_t aux_ = 0;   // per-state counter: ']' run, CDATA[ match, '?' seen, entity name length
  uint8_t colons_ = 0;
  char quote_ = 0;
  char ent_[4] = {};
  bool ent_custom_ = false, prev_colon_ = false, in_unit_ = false, header_tag_ = false;
  bool closing_stream_ = false, decl_allowed_ = true, fragment_ = false, stop_ = false;
};

}  // namespace aviary::xml
