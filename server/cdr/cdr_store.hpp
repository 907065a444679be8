// The storage behind the CDR writer: one batch of records in, committed or not. The writer thread is
// the only caller, so a store needs no locking of its own.
#pragma once

#include <cstddef>
#include <vector>

#include "server/cdr/call_record.hpp"

namespace warmline::server {

class CdrStore {
 public:
  virtual ~CdrStore() = default;
  // Writes every record of `batch` in one transaction and returns how many were committed (a record
  // that cannot be written is skipped and logged; a failed commit writes none).
  virtual size_t write(const std::vector<CallRecord>& batch) = 0;
};

}  // namespace warmline::server
