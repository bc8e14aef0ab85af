#include "mam_query.hpp"

#include "mam_id.hpp"
#include "mam_text.hpp"

#include <aviary/cpp/datetime.hpp>

#include <algorithm>

namespace mod_mam {

namespace {

StanzaError bad_request(std::string text) { return {"modify", "bad-request", std::move(text)}; }

std::optional<uint32_t> parse_uint(std::string_view s) {
  if (s.empty() || s.size() > 9) return std::nullopt;
  uint32_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint32_t>(c - '0');
  }
  return v;
}

std::vector<std::string> values(const Node& field) {
  std::vector<std::string> out;
  for (auto& k : field.kids)
    if (k.name == "value") out.push_back(k.text);
  return out;
}

}  // namespace

std::variant<Query, StanzaError> parse_query(const Node& query) {
  Query q;
  q.ns = query.ns;
  q.queryid = std::string(query.attr("queryid"));
  if (const Node* x = query.child("x", kNsData)) {
    auto type = x->attr("type");
    if (!type.empty() && type != "submit") return bad_request("The query form must be of type submit");
    for (auto& f : x->kids) {
      if (f.name != "field") continue;
      std::string var(f.attr("var"));
      auto vals = values(f);
      auto one = [&](std::string& out) -> std::optional<StanzaError> {
        if (vals.size() > 1) return bad_request("Field '" + var + "' takes one value");
        out = vals.empty() ? std::string() : vals[0];
        return std::nullopt;
      };
      std::string v;
      if (var == "FORM_TYPE") {
        if (auto e = one(v)) return *e;
        if (v != kNsMam2 && v != kNsMam1) return bad_request("Unexpected FORM_TYPE '" + v + "'");
      } else if (var == "with") {
        if (auto e = one(v)) return *e;
        if (!v.empty()) q.with = v;
      } else if (var == "start" || var == "end") {
        if (auto e = one(v)) return *e;
        if (v.empty()) continue;
        auto t = av::parse_xep82_datetime(v);
        if (!t) return bad_request("Field '" + var + "' is not an XEP-0082 date-time: " + v);
        (var == "start" ? q.start_us : q.end_us) = *t;
      } else if (var == "before-id" || var == "after-id") {
        if (auto e = one(v)) return *e;
        if (v.empty()) continue;
        auto id = decode_id(v);
        if (!id) return StanzaError{"cancel", "item-not-found", "No message with id " + v + " in the archive"};
        (var == "before-id" ? q.before_id : q.after_id) = *id;
      } else if (var == "ids") {
        for (auto& s : vals) {
          auto id = decode_id(s);
          if (!id) return StanzaError{"cancel", "item-not-found", "No message with id " + s + " in the archive"};
          q.ids.push_back(*id);
        }
        if (q.ids.size() > 1000) return bad_request("At most 1000 ids per query");
      } else if (var == kFullText) {
        if (auto e = one(v)) return *e;
        q.words = search_words(v);
      } else {
        return StanzaError{"cancel", "feature-not-implemented", "Unknown form field '" + var + "'"};
      }
    }
  }
  if (const Node* set = query.child("set", kNsRsm)) {
    if (const Node* m = set->child("max")) {
      auto v = parse_uint(m->text);
      if (!v) return bad_request("RSM <max/> must be a non-negative integer");
      q.max = *v;
    }
    if (const Node* a = set->child("after")) {
      auto id = decode_id(a->text);
      if (!id) return StanzaError{"cancel", "item-not-found", "No message with id " + a->text + " in the archive"};
      q.rsm_after = *id;
    }
    if (const Node* b = set->child("before")) {
      if (b->text.empty()) {
        q.rsm_before_empty = true;
      } else {
        auto id = decode_id(b->text);
        if (!id) return StanzaError{"cancel", "item-not-found", "No message with id " + b->text + " in the archive"};
        q.rsm_before = *id;
      }
    }
    if (const Node* i = set->child("index")) {
      auto v = parse_uint(i->text);
      if (!v) return bad_request("RSM <index/> must be a non-negative integer");
      q.index = *v;
    }
    if (q.index && (q.rsm_after || q.rsm_before || q.rsm_before_empty))
      return bad_request("RSM <index/> cannot be combined with <after/> or <before/>");
  }
  q.flip = query.child("flip-page") != nullptr;
  q.simple = query.child("simple") != nullptr;
  return q;
}

Plan plan_query(const Query& q, uint32_t default_page, uint32_t max_page) {
  Plan p;
  p.page = std::min(q.max ? *q.max : default_page, max_page);
  auto raise_min = [&](int64_t v) { p.min_id = std::max(p.min_id, v); };
  auto lower_max = [&](int64_t v) { p.max_id = std::min(p.max_id, v); };
  if (q.start_us) raise_min(id_from_us(*q.start_us, 0));
  if (q.end_us) lower_max(id_from_us(*q.end_us, 255));
  if (q.after_id) raise_min(*q.after_id + 1);
  if (q.before_id) lower_max(*q.before_id - 1);
  p.count_min_id = p.min_id;
  p.count_max_id = p.max_id;
  if (q.rsm_after) raise_min(*q.rsm_after + 1);
  if (q.rsm_before) lower_max(*q.rsm_before - 1);
  // <before/> (empty or with an id): the page just before the upper bound.
  p.backward = q.rsm_before_empty || q.rsm_before.has_value();
  p.offset = q.index ? *q.index : 0;
  return p;
}

std::string form_xml(const std::string& ns) {
  return "<x xmlns='jabber:x:data' type='form'>"
         "<field type='hidden' var='FORM_TYPE'><value>" + ns + "</value></field>"
         "<field type='jid-single' var='with'/>"
         "<field type='text-single' var='start'/>"
         "<field type='text-single' var='end'/>"
         "<field type='text-single' var='before-id'/>"
         "<field type='text-single' var='after-id'/>"
         "<field type='list-multi' var='ids'><validate xmlns='http://jabber.org/protocol/xdata-validate' datatype='xs:string'><open/></validate></field>"
         "<field type='text-single' var='{urn:xmpp:fulltext:0}fulltext'/>"
         "</x>";
}

}  // namespace mod_mam
