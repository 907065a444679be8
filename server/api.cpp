#include "server/api.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <fmt/chrono.h>
#include <fmt/format.h>

#include <memory>

#include "ai_bridge/native_protocol.hpp"
#include "server/call_json.hpp"
#include "server/json_writer.hpp"
#include "server/provider_api.hpp"
#include "server/provider_http.hpp"
#include "server/ui_routes.hpp"

namespace warmline::server {

namespace {

// Runs `fn(call)` on the call's shard and answers from there; 404 when the call is not (or no longer)
// there.
void with_call(const ApiContext& ctx, const HttpRequest& req, Responder respond,
               std::function<HttpResponse(Call&)> fn) {
  std::string id(req.param("id"));
  auto shard = shard_of_call_id(id, ctx.shards.size());
  if (!shard) return (void)respond(HttpResponse::error(404, "not_found", "no call " + id));
  ShardRuntime* rt = ctx.shards[*shard];
  rt->shard().post([rt, id, respond, fn = std::move(fn)] {
    auto call = rt->find(id);
    if (!call) return (void)respond(HttpResponse::error(404, "not_found", "no call " + id));
    respond(fn(*call));
  });
}

HttpResponse recording_answer(Call& call, RecordingResult result) {
  switch (result) {
    case RecordingResult::kStarted:
    case RecordingResult::kStopped: break;
    case RecordingResult::kAlready:
      return HttpResponse::error(409, "already_recorded", "this call has a recording already: " + call.recording_path());
    case RecordingResult::kNotRecording:
      return HttpResponse::error(409, "not_recording", "this call is not being recorded");
    case RecordingResult::kUnavailable:
      return HttpResponse::error(409, "not_now", "this call can no longer be recorded");
  }
  JsonWriter w;
  w.begin_object().field("id", call.id());
  write_recording_json(w, call.snapshot());
  w.end_object();
  return HttpResponse::json(200, w.take());
}

void list_calls(const ApiContext& ctx, Responder respond) {
  // Gather from every shard; the last shard to answer (on the control thread) writes the response.
  struct Gather {
    std::vector<CallSnapshot> calls;
    size_t pending;
  };
  auto g = std::make_shared<Gather>(Gather{{}, ctx.shards.size()});
  auto& control = ctx.control;
  for (ShardRuntime* rt : ctx.shards) {
    rt->shard().post([rt, g, &control, respond] {
      auto snaps = rt->snapshots();
      boost::asio::post(control, [g, snaps = std::move(snaps), respond]() mutable {
        for (auto& s : snaps) g->calls.push_back(std::move(s));
        if (--g->pending != 0) return;
        JsonWriter w;
        w.begin_object().key("calls").begin_array();
        for (const auto& c : g->calls) write_call_json(w, c);
        w.end_array().end_object();
        respond(HttpResponse::json(200, w.take()));
      });
    });
  }
}

// A trunk's OPTIONS state (trunk_pings.hpp), or null when it is not pinged.
void write_pings(JsonWriter& w, const TrunkPingView& p) {
  if (!p.pings) return (void)w.null();
  w.begin_object().field("state", p.state).key("changed_at");
  if (p.changed_at) w.value(api_time(*p.changed_at));
  else w.null();
  w.key("status");
  if (p.status) w.value(p.status);
  else w.null();
  w.field("reason", p.reason).key("servers").begin_array();
  for (const PingServerView& s : p.servers) {
    w.begin_object().field("address", s.address).field("state", s.state).key("status");
    if (s.status) w.value(s.status);
    else w.null();
    w.end_object();
  }
  w.end_array().end_object();
}

// GET /v1/trunks: every configured trunk; its registration and OPTIONS state as shard 0 (the owner of
// all of them) sees them. Answered from shard 0's thread.
void list_trunks(const ApiContext& ctx, Responder respond) {
  ShardRuntime* rt = ctx.shards.empty() ? nullptr : ctx.shards.front();
  if (!rt || !rt->registrations()) return (void)respond(HttpResponse::json(200, R"({"trunks":[]})"));
  rt->shard().post([rt, respond] {
    JsonWriter w;
    w.begin_object().key("trunks").begin_array();
    const std::vector<TrunkPingView> pings = rt->pings() ? rt->pings()->snapshot() : std::vector<TrunkPingView>{};
    size_t i = 0;
    for (const TrunkView& t : rt->registrations()->snapshot()) {
      w.begin_object().field("name", t.name).key("address");
      if (t.address.empty()) w.null();
      else w.value(t.address);
      w.key("register");
      if (!t.registers) {
        w.null();
      } else {
        w.begin_object().field("state", t.state).key("status");
        if (t.status) w.value(t.status);
        else w.null();
        w.field("reason", t.reason).field("failures", t.failures).key("expires_in_s");
        if (t.expires_in_s) w.value(*t.expires_in_s);
        else w.null();
        w.key("next_attempt_in_s");
        if (t.next_attempt_in_s) w.value(*t.next_attempt_in_s);
        else w.null();
        w.end_object();
      }
      w.key("options");
      write_pings(w, i < pings.size() ? pings[i] : TrunkPingView{});
      ++i;
      w.end_object();
    }
    w.end_array().end_object();
    respond(HttpResponse::json(200, w.take()));
  });
}

// A Prometheus label value: backslash, double quote and newline escaped.
std::string label_value(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

// A histogram summed over the shards, and its Prometheus text (cumulative buckets).
template <const auto& Bounds>
struct HistogramSum {
  std::array<uint64_t, Bounds.size() + 1> buckets{};
  double sum = 0;
  uint64_t count = 0;
  void add(const Histogram<Bounds>& h) {
    for (size_t i = 0; i < buckets.size(); ++i) buckets[i] += h.buckets[i].load(std::memory_order_relaxed);
    sum += h.sum.load(std::memory_order_relaxed);
    count += h.count.load(std::memory_order_relaxed);
  }
};

template <const auto& Bounds>
void histogram_text(std::string& out, std::string_view name, std::string_view help, const HistogramSum<Bounds>& h) {
  out += fmt::format("# HELP {0} {1}\n# TYPE {0} histogram\n", name, help);
  uint64_t cumulative = 0;
  for (size_t i = 0; i < Bounds.size(); ++i) {
    cumulative += h.buckets[i];
    out += fmt::format("{}_bucket{{le=\"{}\"}} {}\n", name, Bounds[i], cumulative);
  }
  cumulative += h.buckets.back();
  out += fmt::format("{0}_bucket{{le=\"+Inf\"}} {1}\n{0}_sum {2}\n{0}_count {3}\n", name, cumulative, h.sum, h.count);
}

std::string metrics_text(const ApiContext& ctx) {
  uint64_t started = 0, rejected = 0, agent_fail = 0, transfers = 0, ticks = 0, overruns = 0, dialog_rejected = 0, sessions_expired = 0, unknown_source = 0,
           agent_dropped = 0, agent_stalled = 0, rtp_exhausted = 0;
  int64_t active = 0, worst_lag = 0;
  std::array<uint64_t, kTransferResults> by_result{};
  std::array<std::array<uint64_t, kTransferResults>, kTransferStrategies> by_strategy{};
  int64_t legs = 0;
  uint64_t hep_sent = 0, hep_errors = 0;
  std::array<uint64_t, 6> responses_sent{}, responses_received{};
  HistogramSum<kSecondsBounds> setup, pdd, call_setup, bridge;
  HistogramSum<kFrameBounds> caller_to_ai, ai_to_caller;
  HistogramSum<kLossBounds> loss;
  HistogramSum<kJitterBounds> jitter;
  for (ShardRuntime* rt : ctx.shards) {
    auto& m = rt->metrics();
    started += m.calls_started.load(std::memory_order_relaxed);
    rejected += m.calls_rejected.load(std::memory_order_relaxed);
    active += m.calls_active.load(std::memory_order_relaxed);
    agent_fail += m.agent_failures.load(std::memory_order_relaxed);
    transfers += m.transfers_started.load(std::memory_order_relaxed);
    dialog_rejected += m.sip_dialog_rejected.load(std::memory_order_relaxed);
    sessions_expired += m.sessions_expired.load(std::memory_order_relaxed);
    unknown_source += m.sip_unknown_source.load(std::memory_order_relaxed);
    agent_dropped += m.agent_audio_dropped.load(std::memory_order_relaxed);
    agent_stalled += m.agent_stalled.load(std::memory_order_relaxed);
    rtp_exhausted += m.rtp_ports_exhausted.load(std::memory_order_relaxed);
    ticks += m.media_ticks.load(std::memory_order_relaxed);
    overruns += m.media_overruns.load(std::memory_order_relaxed);
    worst_lag = std::max(worst_lag, m.media_worst_lag_us.load(std::memory_order_relaxed));
    for (size_t i = 0; i < kTransferResults; ++i) by_result[i] += m.transfers_by_result[i].load(std::memory_order_relaxed);
    for (size_t s = 0; s < kTransferStrategies; ++s)
      for (size_t i = 0; i < kTransferResults; ++i)
        by_strategy[s][i] += m.transfers_by_strategy[s][i].load(std::memory_order_relaxed);
    legs += m.legs_active.load(std::memory_order_relaxed);
    hep_sent += m.hep_sent.load(std::memory_order_relaxed);
    hep_errors += m.hep_errors.load(std::memory_order_relaxed);
    setup.add(m.transfer_setup);
    pdd.add(m.post_dial_delay);
    call_setup.add(m.call_setup);
    for (size_t i = 0; i < responses_sent.size(); ++i) {
      responses_sent[i] += m.sip_responses_sent[i].load(std::memory_order_relaxed);
      responses_received[i] += m.sip_responses_received[i].load(std::memory_order_relaxed);
    }
    bridge.add(m.transfer_bridge);
    caller_to_ai.add(m.caller_to_ai);
    ai_to_caller.add(m.ai_to_caller);
    loss.add(m.rtp_loss);
    jitter.add(m.rtp_jitter);
  }
  std::string out;
  auto metric = [&out](std::string_view name, std::string_view type, std::string_view help, auto value) {
    out += fmt::format("# HELP {0} {1}\n# TYPE {0} {2}\n{0} {3}\n", name, help, type, value);
  };
  metric("warmline_calls_active", "gauge", "Calls in progress.", active);
  metric("warmline_calls_started_total", "counter", "Calls accepted.", started);
  metric("warmline_calls_rejected_total", "counter", "INVITEs refused (ACL, routing, SDP, draining).", rejected);
  metric("warmline_agent_failures_total", "counter", "Agents (WebSockets, SIP agents) that could not be reached or dropped.", agent_fail);
  metric("warmline_agent_stalled_total", "counter",
         "Agent WebSockets closed because the agent stopped reading (queue limit or stall_timeout_s).", agent_stalled);
  metric("warmline_rtp_ports_exhausted_total", "counter",
         "Legs refused because no RTP port was free (INVITEs answered 503, dials ended failed).", rtp_exhausted);
  metric("warmline_agent_audio_dropped_samples_total", "counter",
         "Agent audio samples dropped because they went beyond the playout capacity.", agent_dropped);
  metric("warmline_sip_unknown_source_total", "counter",
         "New SIP requests from sources no trunk lists, answered 403 statelessly.", unknown_source);
  metric("warmline_sip_dialog_rejected_total", "counter",
         "In-dialog SIP requests refused: no such dialog (481) or not from the dialog's trunk (403).", dialog_rejected);
  metric("warmline_sip_sessions_expired_total", "counter",
         "SIP legs ended with BYE because their session timer (RFC 4028) ran out unrefreshed.", sessions_expired);
  out += "# HELP warmline_sip_responses_total SIP responses sent and received, by class (retransmissions "
         "included).\n# TYPE warmline_sip_responses_total counter\n";
  for (size_t i = 0; i < responses_sent.size(); ++i)
    out += fmt::format("warmline_sip_responses_total{{direction=\"sent\",class=\"{0}xx\"}} {1}\n"
                       "warmline_sip_responses_total{{direction=\"received\",class=\"{0}xx\"}} {2}\n",
                       i + 1, responses_sent[i], responses_received[i]);
  metric("warmline_transfers_started_total", "counter", "Transfers started.", transfers);
  out += "# HELP warmline_transfers_total Transfers ended, by result.\n# TYPE warmline_transfers_total counter\n";
  for (size_t i = 0; i < kTransferResults; ++i)
    out += fmt::format("warmline_transfers_total{{result=\"{}\"}} {}\n",
                       metric_label(static_cast<ai::TransferResult>(i)), by_result[i]);
  out += "# HELP warmline_cold_transfers_total Cold transfers ended, by strategy (dial when any attempt was "
         "dialled, else refer) and result.\n# TYPE warmline_cold_transfers_total counter\n";
  for (size_t s = 0; s < kTransferStrategies; ++s)
    for (size_t i = 0; i < kTransferResults; ++i)
      out += fmt::format("warmline_cold_transfers_total{{strategy=\"{}\",result=\"{}\"}} {}\n",
                         to_string(static_cast<TransferStrategy>(s)), metric_label(static_cast<ai::TransferResult>(i)),
                         by_strategy[s][i]);
  metric("warmline_legs_active", "gauge", "SIP legs up or being set up: callers' and dialled transfer targets'.", legs);
  metric("warmline_hep_sent_total", "counter", "SIP messages traced to the Homer collector ([server] hep).", hep_sent);
  metric("warmline_hep_errors_total", "counter",
         "SIP messages not traced: the HEP packet could not be built or sent (dropped, never retried).", hep_errors);
  auto histogram = [&out](std::string_view name, std::string_view help, const auto& h) { histogram_text(out, name, help, h); };
  histogram("warmline_transfer_setup_seconds", "From a transfer's request to its target answering (completed transfers).",
            setup);
  histogram("warmline_post_dial_delay_seconds", "From warmline's INVITE to a transfer target to the target's first "
            "provisional response.", pdd);
  histogram("warmline_call_setup_seconds", "From a caller's INVITE to warmline's 200 OK (answered calls).", call_setup);
  histogram("warmline_transfer_bridge_seconds", "From a transfer's request to the caller bridged to its target "
            "(transfers warmline bridges itself).", bridge);
  histogram("warmline_caller_to_ai_seconds", "From reading a caller's RTP packet to the WebSocket frame that carries "
            "it written to the agent's socket.", caller_to_ai);
  histogram("warmline_ai_to_caller_seconds", "From the deadline of the call's media slot to the RTP packet with the "
            "agent's audio sent to the caller (the latency beyond the 20 ms tick).", ai_to_caller);
  histogram("warmline_rtp_loss_ratio", "Per SIP leg at its end: RTP packets lost / expected (RFC 3550).", loss);
  histogram("warmline_rtp_jitter_seconds", "Per SIP leg at its end: RTP interarrival jitter (RFC 3550 6.4.1).", jitter);
  metric("warmline_media_ticks_total", "counter", "Media clock ticks over all shards.", ticks);
  metric("warmline_media_overruns_total", "counter", "Media clock ticks that started a period or more late.", overruns);
  metric("warmline_media_worst_lag_microseconds", "gauge", "Worst media clock lag seen on any shard.", worst_lag);
  metric("warmline_draining", "gauge", "1 while the node drains.", ctx.draining.load() ? 1 : 0);
  if (const TrunkRegistrations* regs = ctx.shards.empty() ? nullptr : ctx.shards.front()->registrations();
      regs && !regs->gauges().empty()) {
    out += "# HELP warmline_trunk_registered 1 while the trunk accepts our registration (trunks with "
           "register = true).\n# TYPE warmline_trunk_registered gauge\n";
    for (const auto& g : regs->gauges())
      out += fmt::format("warmline_trunk_registered{{trunk=\"{}\"}} {}\n", label_value(g->trunk),
                         g->registered.load(std::memory_order_relaxed));
  }
  if (const TrunkPings* pings = ctx.shards.empty() ? nullptr : ctx.shards.front()->pings();
      pings && !pings->health().gauges().empty()) {
    out += "# HELP warmline_trunk_up 1 while a server of the trunk answers OPTIONS (trunks with "
           "ping_interval_s).\n# TYPE warmline_trunk_up gauge\n";
    for (const auto& g : pings->health().gauges())
      out += fmt::format("warmline_trunk_up{{trunk=\"{}\"}} {}\n", label_value(g->trunk), g->up.load(std::memory_order_relaxed));
  }
  metric("warmline_cdr_written_total", "counter", "Call records committed to the CDR database.",
         ctx.cdr ? ctx.cdr->written.load(std::memory_order_relaxed) : 0);
  metric("warmline_cdr_dropped_total", "counter",
         "Call records lost: the writer's queue was full, the database refused a record, or it was "
         "unreachable at exit.",
         ctx.cdr ? ctx.cdr->dropped.load(std::memory_order_relaxed) : 0);
  metric("warmline_cdr_pending", "gauge",
         "Call records waiting to be written (queued, or held while the database is unreachable).",
         ctx.cdr ? ctx.cdr->pending.load(std::memory_order_relaxed) : 0);
  metric("warmline_cdr_write_retries_total", "counter",
         "Writes of a batch of call records that the database could not take (retried with backoff).",
         ctx.cdr ? ctx.cdr->retries.load(std::memory_order_relaxed) : 0);
  metric("warmline_recordings_active", "gauge", "Call recordings being written.",
         ctx.recordings ? ctx.recordings->active.load(std::memory_order_relaxed) : 0);
  metric("warmline_recording_dropped_frames_total", "counter",
         "20 ms recording frames lost because a shard's queue to the recordings' writer was full.",
         ctx.recordings ? ctx.recordings->dropped_frames.load(std::memory_order_relaxed) : 0);
  metric("warmline_recording_failures_total", "counter", "Recording files that could not be created or written.",
         ctx.recordings ? ctx.recordings->failures.load(std::memory_order_relaxed) : 0);
  metric("warmline_cdr_store_up", "gauge", "1 while the call record database takes writes, 0 while it is failing.",
         ctx.cdr ? ctx.cdr->store_up.load(std::memory_order_relaxed) : 1);
  const auto webhook = [&ctx](const std::atomic<uint64_t> WebhookMetrics::*counter) {
    return ctx.webhooks ? (ctx.webhooks->*counter).load(std::memory_order_relaxed) : 0;
  };
  metric("warmline_webhooks_sent_total", "counter", "Webhook events the receiver took (2xx).", webhook(&WebhookMetrics::sent));
  metric("warmline_webhooks_failed_total", "counter",
         "Webhook events given up: refused (4xx), attempts spent, or unsent at exit.", webhook(&WebhookMetrics::failed));
  metric("warmline_webhooks_dropped_total", "counter",
         "Webhook events pushed out of a full queue (max_queue) before they were tried.", webhook(&WebhookMetrics::dropped));
  metric("warmline_webhooks_retries_total", "counter", "Webhook attempts that failed and were tried again.",
         webhook(&WebhookMetrics::retries));
  metric("warmline_webhooks_pending", "gauge", "Webhook events queued or being tried.", webhook(&WebhookMetrics::pending));
  return out;
}

}  // namespace

std::optional<unsigned> shard_of_call_id(std::string_view id, size_t shard_count) {
  if (id.size() < 3 || id[0] != 'c') return std::nullopt;
  unsigned n = 0;
  size_t i = 1;
  for (; i < id.size() && id[i] >= '0' && id[i] <= '9' && i < 6; ++i) n = n * 10 + static_cast<unsigned>(id[i] - '0');
  if (i == 1 || i >= id.size() || id[i] != '-' || n >= shard_count) return std::nullopt;
  return n;
}

HttpRouter::Guard api_token_guard(std::string token) {
  return [token = std::move(token)](const HttpRequest& req) -> std::optional<HttpResponse> {
    if (!req.path.starts_with("/v1/") && req.path != "/v1") return std::nullopt;
    if (provider::bearer_auth_matches(req.header("Authorization"), token)) return std::nullopt;
    HttpResponse r = HttpResponse::error(401, "unauthorized", "this API needs Authorization: Bearer <[server] http_token>");
    r.headers.push_back({"WWW-Authenticate", "Bearer realm=\"warmline\""});
    return r;
  };
}

HttpRouter make_api_router(ApiContext ctx) {
  HttpRouter r;
  if (!ctx.token.empty()) r.guard(api_token_guard(ctx.token));
  r.get("/healthz", [](const HttpRequest&, Responder respond) {
    respond(HttpResponse::json(200, R"({"status":"ok"})"));
  });
  r.get("/readyz", [ctx](const HttpRequest&, Responder respond) {
    if (ctx.draining.load()) return (void)respond(HttpResponse::json(503, R"({"status":"draining"})"));
    respond(HttpResponse::json(200, R"({"status":"ready"})"));
  });
  r.get("/metrics", [ctx](const HttpRequest&, Responder respond) {
    respond(HttpResponse::text(200, metrics_text(ctx), "text/plain; version=0.0.4"));
  });
  r.get("/v1/calls", [ctx](const HttpRequest&, Responder respond) { list_calls(ctx, std::move(respond)); });
  r.get("/v1/trunks", [ctx](const HttpRequest&, Responder respond) { list_trunks(ctx, std::move(respond)); });
  r.get("/v1/calls/{id}", [ctx](const HttpRequest& req, Responder respond) {
    with_call(ctx, req, std::move(respond), [](Call& call) {
      JsonWriter w;
      write_call_json(w, call.snapshot());
      return HttpResponse::json(200, w.take());
    });
  });
  r.get("/v1/calls/{id}/ladder", [ctx](const HttpRequest& req, Responder respond) {
    with_call(ctx, req, std::move(respond), [](Call& call) {
      return HttpResponse::json(200, ladder_json(call.id(), call.ladder()));
    });
  });
  add_ui_routes(r);
  r.post("/v1/calls/{id}/transfer", [ctx](const HttpRequest& req, Responder respond) {
    auto parsed = ai::parse_transfer_request(req.body);
    if (auto* err = std::get_if<ai::ProtocolError>(&parsed))
      return (void)respond(HttpResponse::error(400, err->code, err->message));
    auto request = std::get<ai::TransferRequest>(std::move(parsed));
    with_call(ctx, req, std::move(respond), [request = std::move(request)](Call& call) mutable {
      auto started = call.request_transfer(std::move(request));
      if (const auto& refusal = started.refusal)
        return HttpResponse::error(refusal->http_status(), std::string(refusal->api_code()), refusal->message);
      JsonWriter w;
      w.begin_object().field("id", started.id).field("state", "dialing").end_object();
      return HttpResponse::json(202, w.take());
    });
  });
  // transfer.accept / .cancel / .complete, as the agent would send them (docs/http-api.md).
  struct Control {
    const char* action;
    TransferControl what;
    const char* done;
  };
  for (const Control c : {Control{"accept", TransferControl::kAccept, "accepted"},
                          Control{"cancel", TransferControl::kCancel, "cancelled"},
                          Control{"complete", TransferControl::kComplete, "completed"}}) {
    const TransferControl what = c.what;
    const char* done = c.done;
    r.post(std::string("/v1/calls/{id}/transfer/{tid}/") + c.action,
           [ctx, what, done](const HttpRequest& req, Responder respond) {
             std::string tid(req.param("tid"));
             with_call(ctx, req, std::move(respond), [tid, what, done](Call& call) {
               std::string why;
               switch (call.control_transfer(tid, what, why)) {
                 case TransferControlResult::kApplied: break;
                 case TransferControlResult::kNoTransfer: return HttpResponse::error(404, "no_transfer", why);
                 case TransferControlResult::kNotNow: return HttpResponse::error(409, "not_now", why);
               }
               JsonWriter w;
               w.begin_object().field("id", tid).field("status", done).end_object();
               return HttpResponse::json(200, w.take());
             });
           });
  }
  // One recording per call (docs/http-api.md): POST starts it, DELETE stops it for good.
  r.post("/v1/calls/{id}/recording", [ctx](const HttpRequest& req, Responder respond) {
    with_call(ctx, req, std::move(respond), [](Call& call) { return recording_answer(call, call.start_recording()); });
  });
  r.add("DELETE", "/v1/calls/{id}/recording", [ctx](const HttpRequest& req, Responder respond) {
    with_call(ctx, req, std::move(respond), [](Call& call) { return recording_answer(call, call.stop_recording()); });
  });
  r.post("/v1/calls/{id}/hangup", [ctx](const HttpRequest& req, Responder respond) {
    with_call(ctx, req, std::move(respond), [](Call& call) {
      call.hangup("api_hangup");
      return HttpResponse::json(200, R"({"status":"hung_up"})");
    });
  });
  // The providers' REST paths (provider_api.hpp). A call id that cannot be ours is answered at once.
  add_provider_routes(r, [ctx](const std::string& id, std::function<void(Call*)> fn) {
    auto shard = shard_of_call_id(id, ctx.shards.size());
    if (!shard) return fn(nullptr);
    ShardRuntime* rt = ctx.shards[*shard];
    rt->shard().post([rt, id, fn = std::move(fn)] {
      auto call = rt->find(id);
      fn(call.get());
    });
  });
  r.post("/v1/drain", [ctx](const HttpRequest&, Responder respond) {
    ctx.begin_drain();
    respond(HttpResponse::json(202, R"({"status":"draining"})"));
  });
  r.post("/v1/resume", [ctx](const HttpRequest&, Responder respond) {
    if (!ctx.resume())
      return (void)respond(HttpResponse::error(409, "exiting", "the node is shutting down and cannot resume"));
    respond(HttpResponse::json(200, R"({"status":"ready"})"));
  });
  return r;
}

}  // namespace warmline::server
