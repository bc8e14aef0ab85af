/* DRAFT (ext/draft/: not frozen, not in the ABI baseline until promoted; the hook name
 * stays). XEP-0357 push notifications without a PubSub service (MongooseIM's
 * `push_notifications` hook): mod_event_pusher_push runs "push/notifications" for each
 * registration whose PubSub JID is one of its virtual_pubsub_hosts, and a push service
 * (mod_push_service_mongoosepush, or a third party's APNs/FCM/webhook module) delivers it.
 * Module-owned interface: services register on the hook by name and need no dependency on
 * mod_event_pusher_push (nor it on them). C11.
 *
 * The answer may come later: a service that talks to a remote API must not block the thread
 * that runs the hook, so the accumulator carries a completion callback the runner provides.
 *
 *   Runner (mod_event_pusher_push), on any thread:
 *     acc = {sizeof acc, handled = false, pending = false, result = AV_PUSH_RESULT_OK,
 *            done = its callback, done_user = its context}
 *     hook_run("push/notifications", vhost, &params, &acc)
 *     - handled == false: no service took the notification (nothing happens, no callback);
 *     - handled && !pending: acc.result is the answer; done is never called;
 *     - handled && pending: done(done_user, result) is called exactly once, from any thread,
 *       possibly before hook_run returns; the runner does not touch done_user afterwards.
 *
 *   A service's handler:
 *     - acc->handled already true (an earlier service took it): return AV_HOOK_CONTINUE and
 *       change nothing;
 *     - not for this service (e.g. the publish-options lack what it needs): AV_HOOK_CONTINUE;
 *     - synchronous answer: handled = true, result = ..., return AV_HOOK_STOP;
 *     - asynchronous answer: set handled = true and pending = true BEFORE handing the work to
 *       another thread (which may finish at once), return AV_HOOK_STOP, and call
 *       done(done_user, result) exactly once later, from any thread. If the work cannot be
 *       handed over (queue full), set pending = false and result = AV_PUSH_RESULT_ERROR
 *       before returning, and never call done.
 *     A service that stops while answers are pending still calls done for each (with
 *     AV_PUSH_RESULT_ERROR when it gives up), so the runner never leaks a context. */
#ifndef AVIARY_EXT_DRAFT_PUSH_H
#define AVIARY_EXT_DRAFT_PUSH_H

#include "../../types.h"

AV_EXTERN_C_BEGIN

typedef int32_t av_push_result;
enum {
  AV_PUSH_RESULT_OK = 0,                   /* delivered to the push provider              */
  AV_PUSH_RESULT_DEVICE_NOT_REGISTERED = 1, /* the device is gone (MongoosePush: HTTP 410):
                                              the runner disables that registration     */
  AV_PUSH_RESULT_ERROR = 2                  /* failed this time (the service logs why);
                                              the registration is kept                   */
};

/* One key/value pair. OWNERSHIP: runner-owned, valid during the handler call. */
typedef struct av_push_kv {
  av_str key;
  av_str value;
} av_push_kv;

/* Params. OWNERSHIP: runner-owned, valid during the handler call only; a service copies
 * what it keeps. */
typedef struct av_push_notification_params {
  uint32_t struct_size;
  av_vhost *vhost;           /* the domain of the user the notification is for           */
  av_str owner_jid;          /* that user's bare JID                                      */
  av_str pubsub_jid;         /* the registration's PubSub JID (a virtual PubSub host)     */
  av_str node;               /* the registration's node                                   */
  /* The notification form (FORM_TYPE urn:xmpp:push:summary, without the FORM_TYPE field):
   * message-count (decimal text), last-message-sender, last-message-body, in that order. */
  const av_push_kv *fields;
  size_t field_count;
  /* The publish-options the client gave when it enabled the registration (XEP-0357 section 5,
   * FORM_TYPE http://jabber.org/protocol/pubsub#publish-options, without FORM_TYPE), sorted
   * by key; e.g. device_id, service, silent for MongoosePush. May be empty. */
  const av_push_kv *options;
  size_t option_count;
} av_push_notification_params;

/* The runner's completion callback (see the protocol above). [any-thread] */
typedef void (*av_push_done_fn)(void *done_user, av_push_result result);

typedef struct av_push_notification_acc {
  uint32_t struct_size;
  bool handled;              /* a service took the notification                           */
  bool pending;              /* ... and answers later through done()                      */
  av_push_result result;     /* the answer when handled && !pending                        */
  av_push_done_fn done;      /* set by the runner; called by a pending service, once       */
  void *done_user;           /* set by the runner; passed back to done                     */
} av_push_notification_acc;

/* push/notifications   fold  [any-thread]  av_push_notification_params / av_push_notification_acc
 *   Push services register at AV_PUSH_PRIO_SERVICE (MongooseIM: 10). Handlers must not block. */
#define AV_HOOK_PUSH_NOTIFICATIONS "push/notifications"
#define AV_PUSH_PRIO_SERVICE 10

AV_EXTERN_C_END

#endif
