// Twilio's own Node.js helper library (npm `twilio`) against warmline's Twilio REST path, for
// tests/e2e/test_provider_rest.py. The library is used as a bot uses it; only its HTTP client is
// pointed at warmline's HTTP API instead of https://api.twilio.com (the one change a bot makes).
//
//   node twilio_rest.js BASE_URL ACCOUNT_SID AUTH_TOKEN CALL_SID hangup
//   node twilio_rest.js BASE_URL ACCOUNT_SID AUTH_TOKEN CALL_SID dial SAY_TEXT SIP_URI
//   node twilio_rest.js BASE_URL ACCOUNT_SID AUTH_TOKEN CALL_SID fetch
//
// Prints one JSON line: the call resource as the library parsed it, or {"error": {...}} with the
// library's RestException (exit status 2).
"use strict";

const twilio = require("twilio");

// Sends every request to BASE_URL with the path and query Twilio's library built.
class WarmlineRequestClient extends twilio.RequestClient {
  constructor(base) {
    super({ timeout: 10000 });
    this.base = new URL(base);
  }

  request(opts) {
    const built = new URL(opts.uri);
    const uri = new URL(built.pathname + built.search, this.base);
    return super.request({ ...opts, uri: uri.href });
  }
}

async function main() {
  const [base, accountSid, authToken, callSid, action, ...args] = process.argv.slice(2);
  const client = twilio(accountSid, authToken, { httpClient: new WarmlineRequestClient(base) });
  const call = client.calls(callSid);
  let result;
  if (action === "hangup") {
    result = await call.update({ status: "completed" });
  } else if (action === "dial") {
    // The TwiML a bot builds with the library: say something, then dial a SIP URI.
    const response = new twilio.twiml.VoiceResponse();
    response.say(args[0]);
    response.dial({ timeout: 20 }).sip(args[1]);
    result = await call.update({ twiml: response });
  } else if (action === "fetch") {
    result = await call.fetch();
  } else {
    throw new Error(`unknown action ${action}`);
  }
  const { sid, accountSid: account, status, from, to, direction, apiVersion, uri, startTime, endTime } = result;
  console.log(JSON.stringify({ sid, accountSid: account, status, from, to, direction, apiVersion, uri,
                               startTime, endTime }));
}

main().catch((e) => {
  console.log(JSON.stringify({ error: { status: e.status, code: e.code, message: e.message, moreInfo: e.moreInfo } }));
  process.exit(2);
});
