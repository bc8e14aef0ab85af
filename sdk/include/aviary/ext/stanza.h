/* Extension "av.stanza/1" (host-provided): read, build and serialize XML stanzas. C11.
 * A stanza is a reference-counted element tree. Once handed to the router or to another
 * thread it is shared and must be treated as read-only: to change one, clone it. */
#ifndef AVIARY_EXT_STANZA_H
#define AVIARY_EXT_STANZA_H

#include "../types.h"

AV_EXTERN_C_BEGIN

#define AV_EXT_STANZA "av.stanza/1"

typedef struct av_stanza av_stanza; /* refcounted root element                      */
typedef struct av_xml_el av_xml_el; /* an element inside a stanza; borrowed from it */

typedef int32_t av_stanza_kind;
enum { AV_STANZA_OTHER = 0, AV_STANZA_MESSAGE = 1, AV_STANZA_PRESENCE = 2, AV_STANZA_IQ = 3 };

/* OWNERSHIP (whole table): av_str results point into the stanza and stay valid while the
 * caller holds a reference and does not modify that element. Functions returning
 * av_stanza* return a NEW reference the caller must release(). */
typedef struct av_ext_stanza_v1 {
  uint32_t struct_size;

  /* [any-thread] Reference counting. */
  void (*retain)(av_stanza *s);
  void (*release)(av_stanza *s);

  /* [any-thread] Parse one element from XML text (no DTD, no entities beyond the
   * predefined five). NULL on malformed input; *err (may be NULL) then gets a static
   * description. */
  av_stanza *(*parse)(av_str xml, const char **err);
  /* [any-thread] A new stanza with an empty root element named `name`. */
  av_stanza *(*create)(av_str name, av_str xmlns);
  /* [any-thread] Deep copy (refcount 1, safe to modify). */
  av_stanza *(*clone)(const av_stanza *s);

  /* [any-thread] Root element and shortcuts for it. */
  const av_xml_el *(*root)(const av_stanza *s);
  av_stanza_kind (*kind)(const av_stanza *s);

  /* [any-thread] Element access. attr() returns {NULL,0} when absent. text() is the first
   * text run of the element ({"",0} when none). */
  av_str (*name)(const av_xml_el *e);
  av_str (*attr)(const av_xml_el *e, av_str key);
  av_str (*text)(const av_xml_el *e);
  /* First child element named `name` (any name if name.ptr == NULL) whose xmlns attribute
   * equals `xmlns` (any if xmlns.ptr == NULL); NULL when none. */
  const av_xml_el *(*child)(const av_xml_el *e, av_str name, av_str xmlns);
  size_t (*child_count)(const av_xml_el *e);            /* element children only */
  const av_xml_el *(*child_at)(const av_xml_el *e, size_t i);

  /* [any-thread, unshared stanza only] Mutation. mut_root returns NULL when the stanza is
   * shared (refcount > 1): clone it first. */
  av_xml_el *(*mut_root)(av_stanza *s);
  av_status (*set_attr)(av_xml_el *e, av_str key, av_str value); /* value.ptr NULL = remove */
  av_xml_el *(*add_child)(av_xml_el *e, av_str name, av_str xmlns);
  av_status (*add_text)(av_xml_el *e, av_str text);
  /* Parse xml and append it as a child element of e. */
  av_status (*add_xml)(av_xml_el *e, av_str xml);
  av_status (*remove_children)(av_xml_el *e, av_str name, av_str xmlns);

  /* [any-thread] Serialize an element (snprintf-style): writes at most cap bytes to buf
   * (buf may be NULL when cap is 0), NUL-terminates when room, returns the length needed. */
  size_t (*serialize)(const av_xml_el *e, char *buf, size_t cap);

  /* [any-thread] Replies. make_error: a copy of req with from/to swapped, type='error' and
   * <error type=...><condition xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>[<text>]</error>
   * appended (RFC 6120 8.3). make_result: <iq type='result'/> with swapped from/to and
   * req's id, no payload. Both NULL if req has an error type already (never answer errors). */
  av_stanza *(*make_error)(const av_stanza *req, av_str type, av_str condition, av_str text);
  av_stanza *(*make_result)(const av_stanza *req);
} av_ext_stanza_v1;

AV_EXTERN_C_END

#endif
