// Where a shard hands a finished call's record (CallContext::records). The gateway's sink is the CDR
// writer (cdr_writer.hpp), which writes off the shard; unit tests of calls use an in-memory sink.
#pragma once

#include "server/cdr/call_record.hpp"

namespace warmline::server {

class RecordSink {
 public:
  virtual ~RecordSink() = default;
  // Takes one call's complete record, once, when the call ends. Called on a shard's thread: it must
  // return at once, never wait for I/O (a full queue drops the record and counts it).
  virtual void submit(CallRecord&& record) = 0;
};

}  // namespace warmline::server
