#include "sip/event.hpp"

#include <gtest/gtest.h>

#include "sip/info_dtmf.hpp"

namespace warmline::sip {
namespace {

TEST(ReferEvent, IdFromTheEventHeader) {
  EXPECT_EQ(refer_event_id("refer;id=12"), 12u);
  EXPECT_EQ(refer_event_id("Refer ; id = 7 "), 7u);
  EXPECT_EQ(refer_event_id("refer;foo=bar;id=3"), 3u);
  EXPECT_EQ(refer_event_id("refer"), 0u);  // RFC 3515 §2.4.6: the first REFER of the dialog
  EXPECT_FALSE(refer_event_id("presence"));
  EXPECT_FALSE(refer_event_id("referx;id=1"));
  EXPECT_FALSE(refer_event_id("refer;id=abc"));
  EXPECT_FALSE(refer_event_id("refer;id=99999999999"));  // does not fit a CSeq
  EXPECT_FALSE(refer_event_id(""));
}

TEST(ReferEvent, SipfragReason) {
  EXPECT_EQ(sipfrag_reason("SIP/2.0 486 Busy Here\r\n"), "Busy Here");
  EXPECT_EQ(sipfrag_reason("SIP/2.0 200 OK"), "OK");
  EXPECT_EQ(sipfrag_reason("SIP/2.0 100\r\n"), "");
  EXPECT_EQ(sipfrag_reason(""), "");
}

TEST(InfoDtmf, DtmfRelayBody) {
  auto d = parse_info_dtmf("application/dtmf-relay", "Signal=5\r\nDuration=160\r\n");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->digit, '5');
  EXPECT_EQ(d->duration_ms, 160u);
  auto star = parse_info_dtmf("Application/DTMF-Relay; charset=x", "Signal= *\nDuration= 250");
  ASSERT_TRUE(star);
  EXPECT_EQ(star->digit, '*');
  EXPECT_EQ(star->duration_ms, 250u);
  auto hash = parse_info_dtmf("application/dtmf-relay", "Signal=11\r\n");  // event code for #
  ASSERT_TRUE(hash);
  EXPECT_EQ(hash->digit, '#');
  EXPECT_EQ(hash->duration_ms, kDefaultInfoDtmfMs);
}

TEST(InfoDtmf, BareDigitBody) {
  auto d = parse_info_dtmf("application/dtmf", "7\r\n");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->digit, '7');
  EXPECT_EQ(d->duration_ms, kDefaultInfoDtmfMs);
  auto a = parse_info_dtmf("application/dtmf", "a");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->digit, 'A');
}

TEST(InfoDtmf, RejectsWhatIsNotADigit) {
  EXPECT_FALSE(parse_info_dtmf("application/dtmf-relay", "Duration=160\r\n"));
  EXPECT_FALSE(parse_info_dtmf("application/dtmf-relay", "Signal=X\r\n"));
  EXPECT_FALSE(parse_info_dtmf("application/dtmf-relay", "Signal=5\r\nDuration=abc\r\n"));
  EXPECT_FALSE(parse_info_dtmf("application/dtmf", "55"));
  EXPECT_FALSE(parse_info_dtmf("application/dtmf", ""));
  EXPECT_FALSE(parse_info_dtmf("text/plain", "Signal=5"));
  EXPECT_TRUE(is_info_dtmf_type("application/dtmf-relay"));
  EXPECT_TRUE(is_info_dtmf_type("application/DTMF"));
  EXPECT_FALSE(is_info_dtmf_type("application/sdp"));
}

}  // namespace
}  // namespace warmline::sip
