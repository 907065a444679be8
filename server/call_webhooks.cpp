// The call's webhook events (docs/webhooks.md): built here, on the call's shard, as the JSON the
// receiver gets; the sender (server/webhook/webhook_sender.hpp) only signs and POSTs them, off the
// shard. Once per call event, never per packet.
#include "server/call.hpp"
#include "server/call_json.hpp"
#include "server/cdr/record_json.hpp"

namespace warmline::server {

void Call::emit_webhook(WebhookEventType type, const CallRecord* record) {
  if (!ctx_.webhooks || !ctx_.webhooks->wants(type)) return;
  // data.call: the call as GET /v1/calls/{id} shows it now (its transfer's state for transfer.updated);
  // data.record: the call record, as the CDR has it (call.ended).
  JsonWriter w;
  w.begin_object().key("call");
  write_call_json(w, make_snapshot());
  if (record) {
    w.key("record");
    write_record_json(w, *record);
  }
  w.end_object();
  ctx_.webhooks->submit(make_webhook_event(type, id_, ++webhook_sequence_, std::chrono::system_clock::now(), w.str()));
}

}  // namespace warmline::server
