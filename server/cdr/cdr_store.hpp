// The storage behind the CDR writer: one batch of records in, committed or not. The writer thread is
// the only caller, so a store needs no locking of its own.
#pragma once

#include <cstddef>
#include <vector>

#include "server/cdr/call_record.hpp"

namespace warmline::server {

// What one write of a batch came to.
struct StoreResult {
  size_t written = 0;   // records committed (or found committed by an earlier try of the same batch)
  size_t rejected = 0;  // records the database refused (a bad value): skipped and logged, never retried
  // The store could not take the batch at all (database unreachable, disk full, file locked): nothing
  // of it was committed, and the writer keeps the whole batch and tries it again later.
  bool retry = false;
};

class CdrStore {
 public:
  virtual ~CdrStore() = default;
  // Writes every record of `batch` in one transaction. A record that cannot be written is skipped and
  // logged (rejected); a failure of the store itself commits nothing and asks for a retry.
  virtual StoreResult write(const std::vector<CallRecord>& batch) = 0;
};

}  // namespace warmline::server
