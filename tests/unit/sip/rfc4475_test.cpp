// Every RFC 4475 torture message in tests/data/rfc4475, byte-exact, against the outcome its row in
// expectations.csv asks for; then field-level checks of the cases whose point is a grammar detail.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "sip/parse_check.hpp"
#include "sip/parser.hpp"
#include "sip/uri.hpp"

namespace warmline::sip {
namespace {

const std::filesystem::path kDir = std::filesystem::path(WARMLINE_TEST_DATA) / "rfc4475";

std::string read_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

enum class Outcome {
  kAccept,     // parses; a UAS processes it (uas_status 0) or refuses it with uas_status
  kReject,     // parse fails with status and a reason containing `reason`
  kDrop,       // a malformed response: parse fails, nothing may be sent
};

struct Expected {
  Outcome outcome;
  int status;               // kAccept: what check_request_for_uas answers (0 = nothing); kReject: parser status
  std::string_view reason;  // kReject: substring of the reason phrase
};

// What warmline does with each file; each choice is one that expectations.csv allows.
const std::map<std::string, Expected, std::less<>> kExpected{
    {"wsinv", {Outcome::kAccept, 0, ""}},
    {"intmeth", {Outcome::kAccept, 501, ""}},
    {"esc01", {Outcome::kAccept, 0, ""}},
    {"escnull", {Outcome::kAccept, 0, ""}},
    {"esc02", {Outcome::kAccept, 501, ""}},
    {"lwsdisp", {Outcome::kAccept, 0, ""}},
    {"longreq", {Outcome::kAccept, 0, ""}},
    {"dblreq", {Outcome::kAccept, 0, ""}},
    {"semiuri", {Outcome::kAccept, 0, ""}},
    {"transports", {Outcome::kAccept, 0, ""}},
    {"mpart01", {Outcome::kAccept, 405, ""}},  // parses; MESSAGE is not a method warmline serves
    {"unreason", {Outcome::kAccept, 0, ""}},
    {"noreason", {Outcome::kAccept, 0, ""}},
    {"badinv01", {Outcome::kReject, 400, "Malformed Via"}},
    {"clerr", {Outcome::kReject, 400, "Content-Length Exceeds Datagram"}},
    {"ncl", {Outcome::kReject, 400, "Malformed Content-Length"}},
    {"scalar02", {Outcome::kReject, 400, "Malformed CSeq"}},
    {"scalarlg", {Outcome::kDrop, 0, ""}},
    {"quotbal", {Outcome::kReject, 400, "Malformed To"}},
    {"ltgtruri", {Outcome::kReject, 400, "Malformed Request-URI"}},
    {"lwsruri", {Outcome::kReject, 400, "Malformed Request-Line"}},
    {"lwsstart", {Outcome::kReject, 400, "Malformed Request-Line"}},
    {"trws", {Outcome::kReject, 400, "Malformed Request-Line"}},
    {"escruri", {Outcome::kReject, 400, "Headers in Request-URI"}},
    {"baddate", {Outcome::kAccept, 0, ""}},  // the liberal choice: Date is not interpreted
    {"regbadct", {Outcome::kReject, 400, "Malformed Contact"}},
    {"badaspec", {Outcome::kReject, 400, "Malformed To"}},
    {"baddn", {Outcome::kReject, 400, "Malformed From"}},
    {"badvers", {Outcome::kReject, 505, "Version Not Supported"}},
    {"mismatch01", {Outcome::kReject, 400, "CSeq Method Mismatch"}},
    {"mismatch02", {Outcome::kReject, 400, "CSeq Method Mismatch"}},
    {"bigcode", {Outcome::kDrop, 0, ""}},
    {"badbranch", {Outcome::kAccept, 0, ""}},  // the transaction layer decides on the bare cookie
    {"insuf", {Outcome::kReject, 400, "Missing From"}},
    {"unkscm", {Outcome::kAccept, 416, ""}},
    {"novelsc", {Outcome::kAccept, 416, ""}},
    {"unksm2", {Outcome::kAccept, 0, ""}},  // parses; the registrar's AOR check is above this layer
    {"bext01", {Outcome::kAccept, 420, ""}},
    {"invut", {Outcome::kAccept, 415, ""}},
    {"regaut01", {Outcome::kAccept, 0, ""}},
    {"multi01", {Outcome::kReject, 400, "Multiple"}},
    {"mcl01", {Outcome::kReject, 400, "Multiple Content-Length"}},
    {"bcast", {Outcome::kAccept, 0, ""}},
    {"zeromf", {Outcome::kAccept, 0, ""}},  // a UAS answers normally; 483 is a proxy's answer
    {"cparam01", {Outcome::kAccept, 0, ""}},
    {"cparam02", {Outcome::kAccept, 0, ""}},
    {"regescrt", {Outcome::kAccept, 0, ""}},
    {"sdp01", {Outcome::kAccept, 406, ""}},
    {"inv2543", {Outcome::kAccept, 0, ""}},
    {"test", {Outcome::kReject, 400, "Malformed Request-Line"}},
};

// The files' UAS plays registrar too, so that REGISTER cases show what the parse leaves to it.
UasCapabilities registrar_caps() {
  UasCapabilities caps;
  caps.methods.push_back("REGISTER");
  return caps;
}

// file -> class column of expectations.csv
std::map<std::string, std::string> load_classes() {
  std::map<std::string, std::string> out;
  std::ifstream in(kDir / "expectations.csv", std::ios::binary);
  std::string line;
  std::getline(in, line);  // header row
  while (std::getline(in, line)) {
    // file,rfc_section,title,class,...: the first three fields hold no quoted commas.
    std::vector<size_t> commas;
    for (size_t i = 0; i < line.size() && commas.size() < 4; ++i)
      if (line[i] == ',') commas.push_back(i);
    if (commas.size() < 4) continue;
    std::string file = line.substr(0, commas[0]);
    out[file.substr(0, file.size() - 4)] = line.substr(commas[2] + 1, commas[3] - commas[2] - 1);
  }
  return out;
}

std::vector<std::string> dat_files() {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(kDir))
    if (entry.path().extension() == ".dat") names.push_back(entry.path().stem().string());
  std::sort(names.begin(), names.end());
  return names;
}

class Rfc4475 : public testing::TestWithParam<std::string> {};

TEST(Rfc4475Corpus, HasAllFiftyFilesAndOneCsvRowEach) {
  auto files = dat_files();
  auto classes = load_classes();
  EXPECT_EQ(files.size(), 50u);
  EXPECT_EQ(classes.size(), 50u);
  for (const auto& f : files) EXPECT_TRUE(classes.contains(f)) << f;
}

TEST_P(Rfc4475, OutcomeMatchesExpectations) {
  const std::string& name = GetParam();
  auto it = kExpected.find(name);
  ASSERT_NE(it, kExpected.end()) << "no expectation for " << name;
  const Expected& want = it->second;
  const std::string cls = load_classes()[name];
  if (cls == "valid" || cls == "backward-compat") {
    EXPECT_EQ(want.outcome, Outcome::kAccept);
  }

  ParseResult r = parse_message(read_bytes(kDir / (name + ".dat")));
  switch (want.outcome) {
    case Outcome::kAccept: {
      ASSERT_TRUE(r.ok()) << r.status << ' ' << r.reason;
      EXPECT_EQ(r.status, 0);
      if (!r.message->is_request) break;
      auto rejection = check_request_for_uas(*r.message, registrar_caps());
      EXPECT_EQ(rejection ? rejection->status : 0, want.status);
      break;
    }
    case Outcome::kReject:
      ASSERT_FALSE(r.ok()) << "accepted";
      EXPECT_FALSE(r.drop);
      EXPECT_EQ(r.status, want.status) << r.reason;
      EXPECT_NE(r.reason.find(want.reason), std::string::npos) << r.reason;
      break;
    case Outcome::kDrop:
      ASSERT_FALSE(r.ok()) << "accepted";
      EXPECT_TRUE(r.drop) << r.status << ' ' << r.reason;
      break;
  }
}

INSTANTIATE_TEST_SUITE_P(Files, Rfc4475, testing::ValuesIn(dat_files()),
                         [](const testing::TestParamInfo<std::string>& info) { return info.param; });

ParseResult parse_file(std::string_view name) { return parse_message(read_bytes(kDir / (std::string(name) + ".dat"))); }

TEST(Rfc4475Detail, WsinvUnfoldsAndReadsEveryField) {
  auto r = parse_file("wsinv");
  ASSERT_TRUE(r.ok());
  const Message& m = *r.message;
  EXPECT_EQ(m.request_uri.to_string(), "sip:vivekg@chair-dnrc.example.com;unknownparam");
  EXPECT_EQ(m.to.tag(), "1918181833n");
  EXPECT_EQ(m.from.display, "J Rosenberg \\\"");
  EXPECT_EQ(m.from.tag(), "98asjd8");
  EXPECT_EQ(m.max_forwards, 68u);
  EXPECT_EQ(m.cseq.number, 9u);
  EXPECT_EQ(m.cseq.method, "INVITE");
  ASSERT_EQ(m.vias.size(), 3u);
  EXPECT_EQ(m.vias[0].transport, "UDP");
  EXPECT_EQ(m.vias[0].branch(), "390skdjuw");
  EXPECT_EQ(m.vias[1].transport, "TCP");
  EXPECT_EQ(m.vias[1].host, "spindle.example.com");
  EXPECT_EQ(m.vias[2].branch(), "z9hG4bK30239");
  EXPECT_EQ(m.header("Subject"), "");
  ASSERT_NE(m.find_header("s"), nullptr);
  EXPECT_EQ(m.header("NewFangledHeader"), "newfangled value continued newfangled value");
  EXPECT_EQ(m.header("UnknownHeaderWithUnusualValue"), ";;,,;;,;");
  ASSERT_EQ(m.routes.size(), 1u);
  EXPECT_NE(find_param(m.routes[0].uri.params, "unknown-no-value"), nullptr);
  ASSERT_EQ(m.contacts.size(), 1u);
  EXPECT_EQ(m.contacts[0].display, "Quoted string \"\"");
  ASSERT_NE(find_param(m.contacts[0].params, "newparam"), nullptr);
  EXPECT_EQ(find_param(m.contacts[0].params, "newparam")->value, "newvalue");
  EXPECT_EQ(find_param(m.contacts[0].params, "q")->value, "0.33");
  EXPECT_EQ(m.body.size(), 150u);
}

TEST(Rfc4475Detail, IntmethKeepsOddTokensAndControlsInQuotedPairs) {
  auto r = parse_file("intmeth");
  ASSERT_TRUE(r.ok());
  const Message& m = *r.message;
  EXPECT_EQ(m.method, "!interesting-Method0123456789_*+`.%indeed'~");
  EXPECT_EQ(m.request_uri.user, "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
  EXPECT_EQ(m.request_uri.password, "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
  EXPECT_EQ(m.to.display, std::string("BEL:\x07 NUL:\0 DEL:\x7f", 17));
  EXPECT_EQ(m.from.display, "token1~` token2'+_ token3*%!.-");
  EXPECT_EQ(m.from.tag(), "_token~1'+`*%!-.");
  EXPECT_EQ(m.call_id, "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{");
  EXPECT_EQ(m.max_forwards, 255u);
}

TEST(Rfc4475Detail, Esc01UnescapesForComparisonOnly) {
  auto r = parse_file("esc01");
  ASSERT_TRUE(r.ok());
  const Message& m = *r.message;
  EXPECT_EQ(m.request_uri.user, "sips%3Auser%40example.com");
  EXPECT_EQ(uri_unescape(m.request_uri.user), "sips:user@example.com");
  EXPECT_TRUE(uri_equal(m.to.uri, *parse_uri("sip:user@example.com")));
  EXPECT_EQ(uri_unescape(m.from.uri.user), "I have spaces");
  ASSERT_EQ(m.contacts.size(), 1u);
  EXPECT_EQ(m.contacts[0].uri.params.size(), 2u);
}

TEST(Rfc4475Detail, EscnullKeepsNulsAfterUnescaping) {
  auto r = parse_file("escnull");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.message->to.uri.user, "null-%00-null");
  EXPECT_EQ(uri_unescape(r.message->to.uri.user), std::string("null-\0-null", 11));
  ASSERT_EQ(r.message->contacts.size(), 2u);
  EXPECT_EQ(uri_unescape(r.message->contacts[1].uri.user), std::string("\0\0", 2));
}

TEST(Rfc4475Detail, Esc02IsAnUnknownMethodWithTwoContacts) {
  auto r = parse_file("esc02");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.message->method, "RE%47IST%45R");
  EXPECT_EQ(r.message->to.display, "%Z%45");
  EXPECT_EQ(r.message->contacts.size(), 2u);
  EXPECT_EQ(r.message->header("C%6Fntact"), "<sip:alias2@host2.example.com>");
}

TEST(Rfc4475Detail, DblreqTakesOnlyTheRegister) {
  auto r = parse_file("dblreq");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.message->method, "REGISTER");
  EXPECT_TRUE(r.message->body.empty());
}

TEST(Rfc4475Detail, SemiuriUserHoldsTheSemicolon) {
  auto r = parse_file("semiuri");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.message->request_uri.user, "user;par=u%40example.net");
  EXPECT_EQ(r.message->request_uri.host, "example.com");
  EXPECT_TRUE(r.message->request_uri.params.empty());
}

TEST(Rfc4475Detail, TransportsKeepsUnknownTransportToken) {
  auto r = parse_file("transports");
  ASSERT_TRUE(r.ok());
  std::vector<std::string> transports;
  for (const auto& v : r.message->vias) transports.push_back(v.transport);
  EXPECT_EQ(transports, (std::vector<std::string>{"UDP", "SCTP", "TLS", "UNKNOWN", "TCP"}));
}

TEST(Rfc4475Detail, Mpart01BodyIsByteExactWithBareLfs) {
  std::string raw = read_bytes(kDir / "mpart01.dat");
  auto r = parse_message(raw);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.message->body.size(), 553u);
  EXPECT_EQ(r.message->body, raw.substr(raw.find("\r\n\r\n") + 4, 553));
  EXPECT_EQ(r.message->content_type, "multipart/mixed;boundary=7a9cbec02ceef655");
}

TEST(Rfc4475Detail, ReasonPhrasesKeptAsSent) {
  auto un = parse_file("unreason");
  ASSERT_TRUE(un.ok());
  EXPECT_EQ(un.message->status_code, 200);
  EXPECT_TRUE(un.message->reason.starts_with("= 2**3 * 5**2 "));
  auto no = parse_file("noreason");
  ASSERT_TRUE(no.ok());
  EXPECT_EQ(no.message->status_code, 100);
  EXPECT_EQ(no.message->reason, "");
}

TEST(Rfc4475Detail, LongreqKeepsEveryViaAndLongValues) {
  auto r = parse_file("longreq");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.message->vias.size(), 34u);
  EXPECT_GT(r.message->to.display.size(), 100u);
  EXPECT_GT(r.message->call_id.size(), 100u);
}

TEST(Rfc4475Detail, ContactParamsOutsideAndInsideBrackets) {
  auto c1 = parse_file("cparam01");
  ASSERT_TRUE(c1.ok());
  EXPECT_TRUE(c1.message->contacts[0].uri.params.empty());
  EXPECT_NE(find_param(c1.message->contacts[0].params, "unknownparam"), nullptr);
  auto c2 = parse_file("cparam02");
  ASSERT_TRUE(c2.ok());
  EXPECT_NE(find_param(c2.message->contacts[0].uri.params, "unknownparam"), nullptr);
  EXPECT_TRUE(c2.message->contacts[0].params.empty());
  auto esc = parse_file("regescrt");
  ASSERT_TRUE(esc.ok());
  EXPECT_EQ(esc.message->contacts[0].uri.to_string(), "sip:user@example.com?Route=%3Csip:sip.example.com%3E");
}

TEST(Rfc4475Detail, UnknownSchemesInHeadersAreOpaque) {
  auto r = parse_file("unksm2");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.message->to.uri.scheme, "isbn");
  EXPECT_EQ(r.message->to.uri.opaque, "2983792873");
  EXPECT_EQ(r.message->from.uri.scheme, "http");
  EXPECT_EQ(r.message->contacts[0].uri.scheme, "name");
}

// The rejection of `file` carries exactly one header, `name: value`.
void expect_rejection_header(std::string_view file, int status, std::string_view name, std::string_view value) {
  auto r = parse_file(file);
  ASSERT_TRUE(r.ok());
  auto rej = check_request_for_uas(*r.message, UasCapabilities{});
  ASSERT_TRUE(rej);
  EXPECT_EQ(rej->status, status);
  ASSERT_EQ(rej->headers.size(), 1u);
  EXPECT_EQ(rej->headers[0].name, name);
  EXPECT_EQ(rej->headers[0].value, value);
}

TEST(Rfc4475Detail, Bext01ListsEveryUnknownRequireTag) {
  expect_rejection_header("bext01", 420, "Unsupported", "nothingSupportsThis, nothingSupportsThisEither");
}

TEST(Rfc4475Detail, InvutAnswersWithAccept) { expect_rejection_header("invut", 415, "Accept", "application/sdp"); }

TEST(Rfc4475Detail, Inv2543BodyIsTheRestOfTheDatagram) {
  std::string raw = read_bytes(kDir / "inv2543.dat");
  auto r = parse_message(raw);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r.message->max_forwards.has_value());
  EXPECT_EQ(r.message->vias[0].branch(), "");
  EXPECT_EQ(r.message->body, raw.substr(raw.find("\r\n\r\n") + 4));
}

TEST(Rfc4475Detail, ZeromfParsesWithZeroMaxForwards) {
  auto r = parse_file("zeromf");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.message->max_forwards, 0u);
}

TEST(Rfc4475Detail, InsufStillGetsAStatelessAnswerWhenPossible) {
  // insuf lacks From, To and Call-ID: nothing to build a response from, so it is dropped.
  EXPECT_EQ(build_stateless_response(read_bytes(kDir / "insuf.dat"), 400, "Bad Request"), "");
  std::string answer = build_stateless_response(read_bytes(kDir / "scalar02.dat"), 400, "Bad Request - Malformed CSeq");
  EXPECT_TRUE(answer.starts_with("SIP/2.0 400 Bad Request - Malformed CSeq\r\n")) << answer;
  EXPECT_NE(answer.find("CSeq: 36893488147419103232 REGISTER\r\n"), std::string::npos);
  EXPECT_NE(answer.find("Call-ID: scalar02.23o0pd9vanlq3wnrlnewofjas9ui32\r\n"), std::string::npos);
}

}  // namespace
}  // namespace warmline::sip
