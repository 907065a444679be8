#pragma once
// Field-by-field equality of the SIP model's parameters and URIs, for the round-trip checks of the
// sip_message and sip_uri fuzz targets (exact agreement, unlike uri_equal's RFC 3261 §19.1.4 rules).

#include <cstddef>
#include <vector>

#include "sip/message.hpp"

namespace warmline::fuzz {

inline bool same(const std::vector<sip::Param>& a, const std::vector<sip::Param>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].name != b[i].name || a[i].value != b[i].value || a[i].has_value != b[i].has_value) return false;
  }
  return true;
}

inline bool same(const sip::Uri& a, const sip::Uri& b) {
  return a.scheme == b.scheme && a.user == b.user && a.password == b.password && a.host == b.host &&
         a.port == b.port && same(a.params, b.params) && same(a.headers, b.headers) && a.opaque == b.opaque;
}

}  // namespace warmline::fuzz
