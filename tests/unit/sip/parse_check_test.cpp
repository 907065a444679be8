// check_request_for_uas() (RFC 3261 §8.2) and build_stateless_response() (§8.2.6), plus the parse-sip
// command's output and exit codes.
#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include "sip/parse_check.hpp"
#include "sip/parse_sip_command.hpp"
#include "sip/parser.hpp"

namespace warmline::sip {
namespace {

Message request(std::string_view method, std::string_view extra = "", std::string_view body = "",
                std::string_view ruri = "sip:bob@example.com") {
  std::string raw = std::string(method) + " " + std::string(ruri) + " SIP/2.0\r\n" +
                    "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\n"
                    "Call-ID: x\r\nCSeq: 1 " + std::string(method) + "\r\n" + std::string(extra) + "\r\n" +
                    std::string(body);
  ParseResult r = parse_message(raw);
  EXPECT_TRUE(r.ok()) << r.reason;
  return r.message.value_or(Message{});
}

int status_of(const Message& m, const UasCapabilities& caps = {}) {
  auto r = check_request_for_uas(m, caps);
  return r ? r->status : 0;
}

TEST(CheckRequestForUas, AcceptsSupportedRequests) {
  EXPECT_EQ(status_of(request("INVITE", "Content-Type: application/sdp\r\nAccept: application/sdp\r\n", "v=0\r\n")), 0);
  EXPECT_EQ(status_of(request("OPTIONS", "Require: Replaces\r\n")), 0);  // option tags compare case-insensitively
  EXPECT_EQ(status_of(request("INVITE", "", "", "tel:+27115550100")), 0);
  EXPECT_EQ(status_of(request("INVITE", "Accept: application/*\r\n")), 0);
  EXPECT_EQ(status_of(request("INVITE", "Accept: */*;q=0.1\r\n")), 0);
}

TEST(CheckRequestForUas, MethodChecks) {
  auto known = check_request_for_uas(request("SUBSCRIBE"), UasCapabilities{});
  ASSERT_TRUE(known);
  EXPECT_EQ(known->status, 405);
  ASSERT_EQ(known->headers.size(), 1u);
  EXPECT_EQ(known->headers[0].name, "Allow");
  EXPECT_EQ(known->headers[0].value, "INVITE, ACK, BYE, CANCEL, OPTIONS, REFER, NOTIFY, INFO");
  EXPECT_EQ(status_of(request("FOO")), 501);
  EXPECT_EQ(status_of(request("invite")), 501);  // methods are case-sensitive
  EXPECT_EQ(status_of(request("ACK", "Require: unknown\r\n", "", "foo:bar")), 0);  // ACK is never answered
}

TEST(CheckRequestForUas, SchemeRequireAndBodyChecks) {
  EXPECT_EQ(status_of(request("INVITE", "", "", "mailto:bob@example.com")), 416);
  auto r = check_request_for_uas(request("INVITE", "Require: timer, replaces\r\nRequire: 100rel\r\n"), UasCapabilities{});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 420);
  EXPECT_EQ(r->headers[0].value, "timer, 100rel");
  EXPECT_EQ(status_of(request("CANCEL", "Require: timer\r\n")), 0);
  EXPECT_EQ(status_of(request("OPTIONS", "Proxy-Require: timer\r\n")), 0);
  EXPECT_EQ(status_of(request("INVITE", "Content-Type: text/plain\r\n", "hi")), 415);
  EXPECT_EQ(status_of(request("INVITE", "Content-Type: APPLICATION/SDP; charset=x\r\n", "v=0")), 0);
  EXPECT_EQ(status_of(request("INFO", "Content-Type: text/plain\r\n")), 0);  // no body, nothing to refuse
  EXPECT_EQ(status_of(request("INVITE", "Accept: text/html, application/pkcs7-mime\r\n")), 406);
  EXPECT_EQ(status_of(request("OPTIONS", "Accept: text/html\r\n")), 0);  // only an INVITE's answer carries SDP
}

TEST(CheckRequestForUas, CapabilitiesAreConfigurable) {
  UasCapabilities caps;
  caps.methods = {"INVITE", "ACK", "MESSAGE"};
  caps.content_types = {"application/sdp", "text/plain"};
  caps.option_tags = {"timer"};
  EXPECT_EQ(status_of(request("MESSAGE", "Content-Type: text/plain\r\n", "hi"), caps), 0);
  EXPECT_EQ(status_of(request("BYE"), caps), 405);
  EXPECT_EQ(status_of(request("INVITE", "Require: timer\r\n"), caps), 0);
  EXPECT_EQ(status_of(request("INVITE", "Require: replaces\r\n"), caps), 420);
}

TEST(BuildStatelessResponse, CopiesHeaderLinesAndAddsATag) {
  std::string raw =
      "INVITE sip:bob@example.com SIP/2.0\r\nv: SIP/2.0/UDP h1;branch=z9hG4bK1\r\nVia: SIP/2.0/UDP h0\r\n"
      "f: <sip:a@b>;tag=1\r\nt: <sip:c@d>\r\ni: call-1\r\nCSeq: 99999999999 INVITE\r\n"
      "Subject: folded\r\n  line\r\n\r\nbody";
  std::string out = build_stateless_response(raw, 400, "Bad Request - Malformed CSeq");
  std::string expected_tag = out.substr(out.find(";tag=", out.find("To: ")) + 5, 18);
  EXPECT_EQ(out,
            "SIP/2.0 400 Bad Request - Malformed CSeq\r\nVia: SIP/2.0/UDP h1;branch=z9hG4bK1\r\nVia: SIP/2.0/UDP h0\r\n"
            "From: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=" + expected_tag + "\r\nCall-ID: call-1\r\n"
            "CSeq: 99999999999 INVITE\r\nContent-Length: 0\r\n\r\n");
  EXPECT_TRUE(expected_tag.starts_with("wl"));
  EXPECT_EQ(build_stateless_response(raw, 400, "x").find(expected_tag) != std::string::npos, true);  // stable
  std::string tagged = raw;
  tagged.replace(tagged.find("t: <sip:c@d>"), 12, "t: <sip:c@d>;tag=9");
  EXPECT_NE(build_stateless_response(tagged, 400, "x").find("To: <sip:c@d>;tag=9\r\n"), std::string::npos);
}

TEST(BuildStatelessResponse, EmptyWhenItCannotAnswer) {
  EXPECT_EQ(build_stateless_response("INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n\r\n", 400, "x"), "");
  EXPECT_EQ(build_stateless_response("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h\r\nFrom: a\r\nTo: b\r\nCall-ID: c\r\n"
                                     "CSeq: 1 INVITE\r\n\r\n", 400, "x"), "");
  EXPECT_EQ(build_stateless_response("", 400, "x"), "");
  // Headers after the blank line belong to the body and are not used.
  EXPECT_EQ(build_stateless_response("INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n\r\nFrom: a\r\nTo: b\r\n"
                                     "Call-ID: c\r\nCSeq: 1 INVITE\r\n", 400, "x"), "");
}

int run_command(std::string_view file, std::string& out_text, std::string& err_text) {
  std::ostringstream out, err;
  int rc = parse_sip_command((std::filesystem::path(WARMLINE_TEST_DATA) / "rfc4475" / file).string(), out, err);
  out_text = out.str();
  err_text = err.str();
  return rc;
}

TEST(ParseSipCommand, SummaryAndExitCodes) {
  std::string out, err;
  EXPECT_EQ(run_command("wsinv.dat", out, err), 0);
  EXPECT_EQ(out, "request INVITE sip:vivekg@chair-dnrc.example.com;unknownparam call-id=wsinv.ndaksdj@192.0.2.1 "
                 "cseq=9 INVITE vias=3 body=150\n");
  EXPECT_EQ(run_command("esc02.dat", out, err), 0);
  EXPECT_TRUE(out.ends_with(" uas=501 Not Implemented\n")) << out;
  EXPECT_EQ(run_command("noreason.dat", out, err), 0);
  EXPECT_EQ(out, "response 100  call-id=noreason.asndj203insdf99223ndf cseq=35 INVITE vias=1 body=0\n");
  EXPECT_EQ(run_command("scalar02.dat", out, err), 1);
  EXPECT_EQ(out, "400 Bad Request - Malformed CSeq\n");
  EXPECT_EQ(run_command("badvers.dat", out, err), 1);
  EXPECT_EQ(out, "505 Version Not Supported\n");
  EXPECT_EQ(run_command("bigcode.dat", out, err), 1);
  EXPECT_TRUE(out.starts_with("drop: ")) << out;
  EXPECT_EQ(run_command("no-such-file.dat", out, err), 2);
  EXPECT_TRUE(out.empty());
  EXPECT_NE(err.find("cannot read"), std::string::npos);
}

}  // namespace
}  // namespace warmline::sip
