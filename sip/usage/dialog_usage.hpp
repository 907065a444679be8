// Dialog usages (RFC 5057): what owns a dialog and gets the messages inside it — an INVITE session, a
// REFER subscription — and the registry that routes in-dialog messages to them by the full dialog id
// (Call-ID, local tag, remote tag; RFC 3261 §12.2.2), so one call may own several dialogs (the caller's
// leg and a transfer target's leg) and a made-up tag reaches nothing.
//
// Thread: a registry belongs to one shard's transaction user; every call runs on that shard.
// Ownership: the registry holds plain pointers; a usage removes itself before it is destroyed.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>

#include "sip/dialog.hpp"
#include "sip/transaction_layer.hpp"

namespace warmline::sip {

class DialogUsage {
 public:
  virtual ~DialogUsage() = default;
  // A request inside the dialog (never ACK, never CANCEL); tx.source() is where it came from.
  virtual void on_request(ServerTransaction& tx, const Message& request) = 0;
  // The ACK for a 2xx we sent (a late offer's answer may be in it). True when the usage takes it (it
  // comes from the dialog's peer); only a taken ACK stops the 2xx retransmission, so a forged one
  // from elsewhere cannot silence it.
  virtual bool on_ack(const Message& ack, const Endpoint& from) = 0;
  // A CANCEL matched the INVITE this usage is answering (the layer answered the CANCEL with 200).
  virtual void on_cancel(ServerTransaction& invite_tx, const Message& cancel, const Endpoint& from) = 0;
  // No ACK came for our 2xx within 64*T1 (§13.3.1.4).
  virtual void on_ack_timeout() = 0;
  // A 2xx to an INVITE this usage sent arrived again (RFC 6026 §8.4): the usage re-sends its ACK.
  virtual void on_2xx_retransmission(const Message& response, const Endpoint& from) = 0;
};

class DialogRegistry {
 public:
  // `id` must be complete (both tags). A second usage for the same id replaces nothing: false.
  bool add(const DialogId& id, DialogUsage* usage);
  void remove(const DialogId& id, const DialogUsage* usage);

  DialogUsage* find(const DialogId& id) const;
  // The usage that answers an INVITE from `remote_tag` in `call_id` (what a CANCEL or an ACK timeout
  // refers to: their From tag and the Call-ID identify it before they know our tag).
  DialogUsage* find_by_remote_tag(std::string_view call_id, std::string_view remote_tag) const;
  // The usage with a dialog whose local tag is `local_tag` in `call_id`. For a stray 2xx to an INVITE
  // we sent (RFC 3261 §13.2.2.4): a fork we have not heard from yet answers with a To tag no dialog
  // has, but our From tag still names the INVITE's usage, which ACKs and ends that fork. Only for
  // responses: a request must match the full id (§12.2.2).
  DialogUsage* find_by_local_tag(std::string_view call_id, std::string_view local_tag) const;
  bool has_call_id(std::string_view call_id) const;
  size_t size() const { return by_id_.size(); }

 private:
  std::unordered_map<DialogId, DialogUsage*, DialogIdHash> by_id_;
  std::unordered_multimap<std::string, DialogId> by_call_id_;
};

}  // namespace warmline::sip
