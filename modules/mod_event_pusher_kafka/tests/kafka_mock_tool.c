/* kafka_mock_tool: a Kafka cluster for the end-to-end tests of mod_event_pusher_kafka.
 *
 * It runs librdkafka's mock cluster (rdkafka_mock.h: real Kafka protocol, brokers listening on
 * 127.0.0.1 on ephemeral ports), prints "bootstrap HOST:PORT,..." and then serves one command
 * per line on stdin, answering each with one line (consume: one JSON line per message, then
 * "done N"):
 *
 *   create TOPIC PARTITIONS           -> ok
 *   consume TOPIC N TIMEOUT_MS        -> up to N messages not consumed yet, from every partition,
 *                                        as {"topic","partition","offset","timestamp","key",
 *                                        "headers":{name:value},"value"}; then "done COUNT"
 *   count TOPIC                       -> "count N": messages in the topic (sum of high watermarks)
 *   request_errors API COUNT ERROR    -> ok: the next COUNT requests of API (Produce, Metadata,
 *                                        InitProducerId or a number) fail with ERROR (a librdkafka
 *                                        error name such as NOT_LEADER_FOR_PARTITION, or a number)
 *   clear_errors API                  -> ok
 *   topic_error TOPIC ERROR           -> ok: metadata for TOPIC answers ERROR (NO_ERROR clears)
 *   broker_down ID | broker_up ID     -> ok: broker ID (1..N) closes its connections / accepts again
 *   rtt ID MS                         -> ok: broker ID delays its responses by MS
 *   quit                              -> bye (also on end of input)
 *
 * Errors answer "error TEXT". Usage: kafka_mock_tool [--brokers N] [TOPIC:PARTITIONS ...]
 */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_CONSUMERS 64

struct consumer {
  char *topic;
  rd_kafka_t *rk;
};

static rd_kafka_mock_cluster_t *g_mcluster;
static const char *g_bootstrap;
static struct consumer g_consumers[MAX_CONSUMERS];
static int g_nconsumers;

static void print_json_string(const char *s, size_t len) {
  putchar('"');
  for (size_t i = 0; i < len; ++i) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\') {
      putchar('\\');
      putchar(c);
    } else if (c == '\n') {
      fputs("\\n", stdout);
    } else if (c == '\r') {
      fputs("\\r", stdout);
    } else if (c == '\t') {
      fputs("\\t", stdout);
    } else if (c < 0x20 || c == 0x7f) {
      printf("\\u%04x", c);
    } else {
      putchar(c);
    }
  }
  putchar('"');
}

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int parse_int(const char *s, long *out) {
  char *end = NULL;
  if (!s || !*s) return -1;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || *end) return -1;
  *out = v;
  return 0;
}

/* An error code from its librdkafka name (with or without RD_KAFKA_RESP_ERR_) or number. */
static int parse_error(const char *s, rd_kafka_resp_err_t *out) {
  long n;
  if (parse_int(s, &n) == 0) {
    *out = (rd_kafka_resp_err_t)n;
    return 0;
  }
  if (strncmp(s, "RD_KAFKA_RESP_ERR_", 18) == 0) s += 18;
  if (strcmp(s, "NO_ERROR") == 0) {
    *out = RD_KAFKA_RESP_ERR_NO_ERROR;
    return 0;
  }
  const struct rd_kafka_err_desc *descs;
  size_t cnt;
  rd_kafka_get_err_descs(&descs, &cnt);
  for (size_t i = 0; i < cnt; ++i)
    if (descs[i].name && strcmp(descs[i].name, s) == 0) {
      *out = descs[i].code;
      return 0;
    }
  return -1;
}

static int parse_api(const char *s, int16_t *out) {
  static const struct {
    const char *name;
    int16_t key;
  } apis[] = {{"Produce", 0}, {"Fetch", 1}, {"ListOffsets", 2}, {"Metadata", 3}, {"ApiVersions", 18},
              {"InitProducerId", 22}};
  long n;
  if (parse_int(s, &n) == 0 && n >= 0 && n < 1000) {
    *out = (int16_t)n;
    return 0;
  }
  for (size_t i = 0; i < sizeof(apis) / sizeof(apis[0]); ++i)
    if (strcmp(apis[i].name, s) == 0) {
      *out = apis[i].key;
      return 0;
    }
  return -1;
}

/* The number of partitions of a topic, from the cluster's metadata; -1 when unknown. */
static int partition_count(rd_kafka_t *rk, const char *topic) {
  rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
  const struct rd_kafka_metadata *md = NULL;
  int n = -1;
  if (rd_kafka_metadata(rk, 0, rkt, &md, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    for (int i = 0; i < md->topic_cnt; ++i)
      if (strcmp(md->topics[i].topic, topic) == 0 && !md->topics[i].err) n = md->topics[i].partition_cnt;
    rd_kafka_metadata_destroy(md);
  }
  rd_kafka_topic_destroy(rkt);
  return n;
}

/* One consumer per topic, assigned every partition from the beginning and kept, so that each
 * consume command continues where the previous one stopped. */
static rd_kafka_t *consumer_for(const char *topic, char *err, size_t errlen) {
  for (int i = 0; i < g_nconsumers; ++i)
    if (strcmp(g_consumers[i].topic, topic) == 0) return g_consumers[i].rk;
  if (g_nconsumers == MAX_CONSUMERS) {
    snprintf(err, errlen, "too many topics");
    return NULL;
  }
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  if (rd_kafka_conf_set(conf, "bootstrap.servers", g_bootstrap, err, errlen) != RD_KAFKA_CONF_OK ||
      rd_kafka_conf_set(conf, "group.id", "kafka_mock_tool", err, errlen) != RD_KAFKA_CONF_OK ||
      rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, errlen) != RD_KAFKA_CONF_OK ||
      rd_kafka_conf_set(conf, "allow.auto.create.topics", "false", err, errlen) != RD_KAFKA_CONF_OK ||
      rd_kafka_conf_set(conf, "fetch.wait.max.ms", "50", err, errlen) != RD_KAFKA_CONF_OK ||
      rd_kafka_conf_set(conf, "log_level", "3", err, errlen) != RD_KAFKA_CONF_OK) {
    rd_kafka_conf_destroy(conf);
    return NULL;
  }
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, errlen);
  if (!rk) return NULL;
  int n = partition_count(rk, topic);
  if (n <= 0) {
    snprintf(err, errlen, "no such topic: %s", topic);
    rd_kafka_destroy(rk);
    return NULL;
  }
  rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(n);
  for (int p = 0; p < n; ++p) rd_kafka_topic_partition_list_add(parts, topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  rd_kafka_resp_err_t e = rd_kafka_assign(rk, parts);
  rd_kafka_topic_partition_list_destroy(parts);
  if (e) {
    snprintf(err, errlen, "assign: %s", rd_kafka_err2str(e));
    rd_kafka_destroy(rk);
    return NULL;
  }
  g_consumers[g_nconsumers].topic = strdup(topic);
  g_consumers[g_nconsumers].rk = rk;
  ++g_nconsumers;
  return rk;
}

static void print_message(const rd_kafka_message_t *m) {
  printf("{\"topic\":");
  const char *t = rd_kafka_topic_name(m->rkt);
  print_json_string(t, strlen(t));
  printf(",\"partition\":%d,\"offset\":%lld", (int)m->partition, (long long)m->offset);
  rd_kafka_timestamp_type_t tstype;
  printf(",\"timestamp\":%lld,\"key\":", (long long)rd_kafka_message_timestamp(m, &tstype));
  if (m->key)
    print_json_string((const char *)m->key, m->key_len);
  else
    printf("null");
  printf(",\"headers\":{");
  rd_kafka_headers_t *hdrs = NULL;
  if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    const char *name;
    const void *val;
    size_t size;
    for (size_t i = 0; rd_kafka_header_get_all(hdrs, i, &name, &val, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; ++i) {
      if (i) putchar(',');
      print_json_string(name, strlen(name));
      putchar(':');
      if (val)
        print_json_string((const char *)val, size);
      else
        printf("null");
    }
  }
  printf("},\"value\":");
  if (m->payload)
    print_json_string((const char *)m->payload, m->len);
  else
    printf("null");
  printf("}\n");
}

static void cmd_consume(const char *topic, long want, long timeout_ms) {
  char err[512] = "";
  rd_kafka_t *rk = consumer_for(topic, err, sizeof(err));
  if (!rk) {
    printf("error %s\n", err);
    return;
  }
  long got = 0;
  rd_kafka_queue_t *q = rd_kafka_queue_get_consumer(rk);
  /* Wall-clock bound: poll in slices until `want` messages or the timeout. */
  const long long deadline = now_ms() + timeout_ms;
  while (got < want) {
    const long long left = deadline - now_ms();
    if (left < 0) break;
    rd_kafka_message_t *m = rd_kafka_consume_queue(q, left < 50 ? (int)left : 50);
    if (!m) continue;
    if (m->err) {
      if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) fprintf(stderr, "consume %s: %s\n", topic, rd_kafka_message_errstr(m));
    } else {
      print_message(m);
      ++got;
    }
    rd_kafka_message_destroy(m);
  }
  rd_kafka_queue_destroy(q);
  printf("done %ld\n", got);
}

static void cmd_count(const char *topic) {
  char err[512] = "";
  rd_kafka_t *rk = consumer_for(topic, err, sizeof(err));
  if (!rk) {
    printf("error %s\n", err);
    return;
  }
  int n = partition_count(rk, topic);
  long long total = 0;
  for (int p = 0; p < n; ++p) {
    int64_t lo = 0, hi = 0;
    rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(rk, topic, p, &lo, &hi, 5000);
    if (e) {
      printf("error watermarks of %s [%d]: %s\n", topic, p, rd_kafka_err2str(e));
      return;
    }
    total += hi - lo;
  }
  printf("count %lld\n", total);
}

static int broker_id(const char *s, int32_t *out) {
  long n;
  if (parse_int(s, &n) || n < 1) return -1;
  *out = (int32_t)n;
  return 0;
}

static void run_command(char *line) {
  char *argv[8] = {0};
  int argc = 0;
  for (char *tok = strtok(line, " \t\r\n"); tok && argc < 8; tok = strtok(NULL, " \t\r\n")) argv[argc++] = tok;
  if (argc == 0) return;
  const char *cmd = argv[0];
  long a, b;
  int32_t id;
  int16_t api;
  rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR_NO_ERROR;
  if (strcmp(cmd, "create") == 0 && argc == 3 && parse_int(argv[2], &a) == 0 && a > 0) {
    e = rd_kafka_mock_topic_create(g_mcluster, argv[1], (int)a, 1);
  } else if (strcmp(cmd, "consume") == 0 && argc == 4 && parse_int(argv[2], &a) == 0 &&
             parse_int(argv[3], &b) == 0 && a >= 0 && b >= 0) {
    cmd_consume(argv[1], a, b);
    return;
  } else if (strcmp(cmd, "count") == 0 && argc == 2) {
    cmd_count(argv[1]);
    return;
  } else if (strcmp(cmd, "request_errors") == 0 && argc == 4) {
    rd_kafka_resp_err_t code;
    if (parse_api(argv[1], &api) || parse_int(argv[2], &a) || a < 1 || parse_error(argv[3], &code)) {
      printf("error usage: request_errors API COUNT ERROR\n");
      return;
    }
    rd_kafka_resp_err_t *errs = calloc((size_t)a, sizeof(*errs));
    for (long i = 0; i < a; ++i) errs[i] = code;
    rd_kafka_mock_push_request_errors_array(g_mcluster, api, (size_t)a, errs);
    free(errs);
  } else if (strcmp(cmd, "clear_errors") == 0 && argc == 2 && parse_api(argv[1], &api) == 0) {
    rd_kafka_mock_clear_request_errors(g_mcluster, api);
  } else if (strcmp(cmd, "topic_error") == 0 && argc == 3) {
    rd_kafka_resp_err_t code;
    if (parse_error(argv[2], &code)) {
      printf("error unknown error name %s\n", argv[2]);
      return;
    }
    rd_kafka_mock_topic_set_error(g_mcluster, argv[1], code);
  } else if (strcmp(cmd, "broker_down") == 0 && argc == 2 && broker_id(argv[1], &id) == 0) {
    e = rd_kafka_mock_broker_set_down(g_mcluster, id);
  } else if (strcmp(cmd, "broker_up") == 0 && argc == 2 && broker_id(argv[1], &id) == 0) {
    e = rd_kafka_mock_broker_set_up(g_mcluster, id);
  } else if (strcmp(cmd, "rtt") == 0 && argc == 3 && broker_id(argv[1], &id) == 0 && parse_int(argv[2], &a) == 0 &&
             a >= 0) {
    e = rd_kafka_mock_broker_set_rtt(g_mcluster, id, (int)a);
  } else {
    printf("error unknown command or bad arguments: %s\n", cmd);
    return;
  }
  if (e)
    printf("error %s\n", rd_kafka_err2str(e));
  else
    printf("ok\n");
}

int main(int argc, char **argv) {
  int brokers = 1;
  int first_topic = 1;
  if (argc > 2 && strcmp(argv[1], "--brokers") == 0) {
    brokers = atoi(argv[2]);
    first_topic = 3;
  }
  if (brokers < 1 || brokers > 16) {
    fprintf(stderr, "usage: %s [--brokers N] [TOPIC:PARTITIONS ...]\n", argv[0]);
    return 2;
  }
  char err[512];
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "log_level", "3", err, sizeof(err));
  /* The mock cluster needs a client handle to live in; it is not used otherwise. */
  rd_kafka_t *owner = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
  if (!owner) {
    fprintf(stderr, "rd_kafka_new: %s\n", err);
    return 1;
  }
  g_mcluster = rd_kafka_mock_cluster_new(owner, brokers);
  if (!g_mcluster) {
    fprintf(stderr, "cannot create the mock cluster\n");
    return 1;
  }
  g_bootstrap = rd_kafka_mock_cluster_bootstraps(g_mcluster);
  for (int i = first_topic; i < argc; ++i) {
    char *spec = strdup(argv[i]);
    char *colon = strrchr(spec, ':');
    long parts = 1;
    if (colon) {
      *colon = '\0';
      if (parse_int(colon + 1, &parts) || parts < 1) {
        fprintf(stderr, "bad topic spec %s (TOPIC:PARTITIONS)\n", argv[i]);
        return 2;
      }
    }
    rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(g_mcluster, spec, (int)parts, 1);
    if (e) {
      fprintf(stderr, "create %s: %s\n", spec, rd_kafka_err2str(e));
      return 1;
    }
    free(spec);
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  printf("bootstrap %s\n", g_bootstrap);

  char line[4096];
  while (fgets(line, sizeof(line), stdin)) {
    char *p = line;
    while (isspace((unsigned char)*p)) ++p;
    if (strncmp(p, "quit", 4) == 0) break;
    run_command(p);
    fflush(stdout);
  }
  for (int i = 0; i < g_nconsumers; ++i) {
    rd_kafka_consumer_close(g_consumers[i].rk);
    rd_kafka_destroy(g_consumers[i].rk);
    free(g_consumers[i].topic);
  }
  rd_kafka_mock_cluster_destroy(g_mcluster);
  rd_kafka_destroy(owner);
  printf("bye\n");
  return 0;
}
