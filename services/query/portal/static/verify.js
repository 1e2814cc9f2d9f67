// verify.js — the /verify page: a certificate (PDF, .jws, JSON, pasted
// text, or a number from the QR code) is verified here in the browser
// against the trust bundle's issuer key and recorders; then the ledger is
// asked whether it was issued as this very document and not revoked.
import { Report, getJSON, jwsFromPDF, messages, readJWS, verifyCertificate } from "./ccverify.js";

const msgs = messages();
const form = document.getElementById("verify-form");
const fileInput = document.getElementById("verify-file");
const textInput = document.getElementById("verify-text");
const certInput = document.getElementById("verify-cert");
const summary = document.getElementById("verify-summary");

function report() {
  summary.hidden = true;
  summary.replaceChildren();
  return new Report(document.getElementById("verify-status"), document.getElementById("verify-checks"), msgs);
}

// input is the JWS the visitor gave: a file first, then pasted text,
// then a certificate number looked up on this portal.
async function input() {
  const file = fileInput.files && fileInput.files[0];
  if (file) {
    const bytes = new Uint8Array(await file.arrayBuffer());
    if (new TextDecoder().decode(bytes.subarray(0, 5)) === "%PDF-") return jwsFromPDF(bytes);
    return readJWS(new TextDecoder().decode(bytes));
  }
  if (textInput.value.trim()) return readJWS(textInput.value);
  const no = certInput.value.trim();
  if (no) {
    const doc = await getJSON(`/v1/certificates/${encodeURIComponent(no)}`);
    return doc.jws;
  }
  throw new Error(msgs.nothing);
}

// beijing shows an RFC 3339 UTC time in Beijing time (UTC+8), to the second.
function beijing(t) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})/.exec(t || "");
  if (!m) return t;
  const d = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) + 8 * 3600 * 1000);
  return d.toISOString().slice(0, 19).replace("T", " ") + " " + (msgs["time.zone"] || "UTC+8");
}

function show(cred) {
  const cs = cred.credentialSubject;
  const rows = [
    ["cert_no", cred.id.replace("urn:creditchain:cert:", "")],
    ["subject", [cs.subject.name, cs.subject.code].filter(Boolean).join(" ")],
    ["category", msgs["category." + cs.record.category] || cs.record.category],
    ["document_no", cs.record.document_no],
    ["authority", cs.record.authority],
    ["exit_time", beijing(cs.exit.time)],
    ["exit_reason", cs.exit.reason],
  ];
  for (const [k, v] of rows) {
    const dt = document.createElement("dt");
    dt.textContent = msgs["field." + k] || k;
    const dd = document.createElement("dd");
    dd.textContent = v;
    dd.dataset.field = k;
    summary.append(dt, dd);
  }
  summary.hidden = false;
}

async function verify() {
  const r = report();
  r.verdict("pending", msgs.checking);
  try {
    const jws = await input();
    const trust = await getJSON("/v1/ledger/trust");
    const { cred } = await verifyCertificate(jws, trust, (check, detail) => r.add(check, true, detail));
    show(cred);
    // Revocation can only be seen online: the ledger's status of the
    // certificate and the document hash it anchored.
    const online = await getJSON("/v1/certificates/verify", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ jws }),
    });
    const status = (online.checks || []).find((c) => c.name === "status");
    if (!status || !status.ok) {
      const revoked = (online.reason || "").startsWith("revoked");
      r.add(revoked ? "revoked" : "status", false, (status && status.detail) || online.reason);
      r.verdict("invalid", `${msgs.invalid}: ${r.name(revoked ? "revoked" : "status")}`);
      return;
    }
    r.add("status", true, status.detail);
    r.verdict("valid", msgs.valid);
  } catch (e) {
    r.failed(e);
  }
}

form.addEventListener("submit", (ev) => {
  ev.preventDefault();
  verify();
});
// Opened from a certificate's QR code: verify at once.
if (certInput.value.trim()) verify();
