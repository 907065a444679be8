#include "sip/usage/dialog_usage.hpp"

namespace warmline::sip {

bool DialogRegistry::add(const DialogId& id, DialogUsage* usage) {
  if (!by_id_.emplace(id, usage).second) return false;
  by_call_id_.emplace(id.call_id, id);
  return true;
}

void DialogRegistry::remove(const DialogId& id, const DialogUsage* usage) {
  auto it = by_id_.find(id);
  if (it == by_id_.end() || it->second != usage) return;
  by_id_.erase(it);
  auto [first, last] = by_call_id_.equal_range(id.call_id);
  for (auto i = first; i != last; ++i) {
    if (i->second == id) {
      by_call_id_.erase(i);
      break;
    }
  }
}

DialogUsage* DialogRegistry::find(const DialogId& id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : it->second;
}

DialogUsage* DialogRegistry::find_by_remote_tag(std::string_view call_id, std::string_view remote_tag) const {
  auto [first, last] = by_call_id_.equal_range(std::string(call_id));
  for (auto i = first; i != last; ++i)
    if (i->second.remote_tag == remote_tag) return find(i->second);
  return nullptr;
}

DialogUsage* DialogRegistry::find_by_local_tag(std::string_view call_id, std::string_view local_tag) const {
  auto [first, last] = by_call_id_.equal_range(std::string(call_id));
  for (auto i = first; i != last; ++i)
    if (i->second.local_tag == local_tag) return find(i->second);
  return nullptr;
}

bool DialogRegistry::has_call_id(std::string_view call_id) const {
  return by_call_id_.count(std::string(call_id)) > 0;
}

}  // namespace warmline::sip
