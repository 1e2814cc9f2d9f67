// ccverify.js — creditchain's proofs checked in the browser, with nothing
// but WebCrypto: SHA-256 for RFC 6962 Merkle paths and block hashes,
// Ed25519 for transaction signatures, cosignatures and certificates.
// The rules are those of docs/certificates.md ("Verifying (any
// language)") and pkg/block; the server that sent this page is trusted for
// nothing but the trust bundle it serves.

const enc = new TextEncoder();

export class CheckError extends Error {
  constructor(check, message) {
    super(message);
    this.check = check;
  }
}

export function fail(check, message) {
  throw new CheckError(check, message);
}

// ---- encodings -------------------------------------------------------

export function b64urlDecode(s) {
  if (typeof s !== "string" || !/^[A-Za-z0-9_-]*$/.test(s) || s.length % 4 === 1) {
    throw new Error("not base64url without padding");
  }
  const std = s.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((s.length + 3) % 4);
  return Uint8Array.from(atob(std), (c) => c.charCodeAt(0));
}

export function b64Decode(s) {
  return Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
}

export function toHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function fromHex(h) {
  if (typeof h !== "string" || !/^([0-9a-f]{2})*$/.test(h)) throw new Error("not lowercase hex");
  const out = new Uint8Array(h.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(h.substr(2 * i, 2), 16);
  return out;
}

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

// jcs is RFC 8785 canonical JSON. ECMAScript's JSON.stringify already
// writes strings and numbers as JCS wants; objects need their members
// sorted by UTF-16 code units, which is what Array.prototype.sort does.
export function jcs(v) {
  if (v === null || typeof v === "boolean" || typeof v === "string") return JSON.stringify(v);
  if (typeof v === "number") {
    if (!Number.isFinite(v)) throw new Error("JCS: number is not finite");
    return JSON.stringify(v);
  }
  if (Array.isArray(v)) return "[" + v.map(jcs).join(",") + "]";
  if (typeof v === "object") {
    return "{" + Object.keys(v).sort().filter((k) => v[k] !== undefined)
      .map((k) => JSON.stringify(k) + ":" + jcs(v[k])).join(",") + "}";
  }
  throw new Error("JCS: unsupported value");
}

export async function sha256(bytes) {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
}

export async function sha256Hex(bytes) {
  return toHex(await sha256(bytes));
}

// ---- signatures ------------------------------------------------------

export async function ed25519Verify(publicB64, sig, msg) {
  const key = await crypto.subtle.importKey("raw", b64Decode(publicB64), { name: "Ed25519" }, false, ["verify"]);
  return crypto.subtle.verify({ name: "Ed25519" }, key, sig, msg);
}

// ---- transactions ----------------------------------------------------

function withoutSig(env) {
  const copy = { ...env };
  delete copy.sig;
  return copy;
}

// txID is hex SHA-256 of the envelope's signing bytes (JCS without sig).
export async function txID(env) {
  return sha256Hex(enc.encode(jcs(withoutSig(env))));
}

// leafBytes is the log leaf of an envelope: JCS of the full envelope.
export function leafBytes(env) {
  return enc.encode(jcs(env));
}

// verifyTxSignature checks env's signature with the key its sig names,
// among the keys the epoch lists for the submitter; with mustRecord the
// submitter must be a recorder.
export async function verifyTxSignature(check, env, epoch, mustRecord) {
  const m = epoch.members.find((x) => x.id === env.submitter);
  if (!m) fail(check, `submitter ${env.submitter} is not a member of epoch ${epoch.epoch}`);
  if (mustRecord && !(m.roles || []).includes("recorder")) fail(check, `submitter ${m.id} is not a recorder`);
  const sig = env.sig || {};
  const k = (m.keys || []).find((x) => x.key_id === sig.key_id);
  if (!k) fail(check, `${m.id} has no key ${sig.key_id} in the trust bundle`);
  if (k.alg !== "ed25519" || sig.alg !== "ed25519") fail(check, `key ${k.key_id} is ${k.alg}, not ed25519`);
  let raw;
  try {
    raw = b64urlDecode(sig.value);
  } catch (e) {
    fail(check, "the signature is not base64url");
  }
  if (!(await ed25519Verify(k.public, raw, enc.encode(jcs(withoutSig(env)))))) {
    fail(check, `the signature of ${m.id} does not verify: the transaction was changed`);
  }
  return m;
}

// ---- Merkle log (RFC 6962 / RFC 9162 §2.1.3.2) -------------------------

export async function verifyInclusion(leaf, index, size, path, rootHex) {
  let fn = BigInt(index);
  let sn = BigInt(size) - 1n;
  if (fn > sn) return false;
  let r = await sha256(concat(new Uint8Array([0]), leaf));
  for (const h of path) {
    const p = fromHex(h);
    if (sn === 0n) return false;
    if ((fn & 1n) === 1n || fn === sn) {
      r = await sha256(concat(new Uint8Array([1]), p, r));
      while ((fn & 1n) === 0n && fn !== 0n) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      r = await sha256(concat(new Uint8Array([1]), r, p));
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  return sn === 0n && toHex(r) === rootHex;
}

// ---- blocks and the trust bundle -------------------------------------

export function checkSuite(trust) {
  if (trust.crypto_suite !== "ed25519") {
    fail("format", `this chain uses the ${trust.crypto_suite} suite, which browsers cannot verify; use creditchain cert verify`);
  }
}

export async function checkBlockHash(blk) {
  const got = await sha256Hex(enc.encode(jcs(blk.header)));
  if (got !== blk.hash) fail("block_hash", `the header hashes to ${got}, the block says ${blk.hash}: the header was changed`);
  return got;
}

// epochOf is the trust bundle's epoch the header claims, refused if it
// is not the one in force at the header's height.
export function epochOf(trust, header) {
  const e = trust.epochs.find((x) => x.epoch === header.epoch);
  if (!e) fail("epoch", `the trust bundle has no epoch ${header.epoch}`);
  if (e.from_height > header.height) fail("epoch", `epoch ${e.epoch} starts at height ${e.from_height}, after block ${header.height}`);
  for (const x of trust.epochs) {
    if (x.epoch > e.epoch && x.from_height <= header.height) {
      fail("epoch", `block ${header.height} claims epoch ${e.epoch}, but epoch ${x.epoch} is in force from height ${x.from_height}`);
    }
  }
  return e;
}

export function quorumSize(rule, n) {
  switch (rule) {
    case "two-thirds":
    case "":
      return Math.floor((2 * n) / 3) + 1;
    case "majority":
      return Math.floor(n / 2) + 1;
    case "all":
      return n;
  }
  fail("quorum", `unknown quorum rule ${rule}`);
}

// checkCosignatures verifies every cosignature of blk (by a distinct
// recorder of the epoch, with one of its keys, over
// "creditchain-block-v1:<chain>:<hash>") and returns [count, needed].
export async function checkCosignatures(trust, epoch, blk) {
  const recorders = epoch.members.filter((m) => (m.roles || []).includes("recorder"));
  const need = quorumSize(trust.quorum, recorders.length);
  const msg = enc.encode(`creditchain-block-v1:${blk.header.chain}:${blk.hash}`);
  const seen = new Set();
  for (const [i, c] of (blk.cosignatures || []).entries()) {
    const m = recorders.find((r) => r.id === c.institution);
    if (!m) fail("cosignatures", `cosignature ${i}: ${c.institution} is not a recorder of epoch ${epoch.epoch}`);
    if (seen.has(c.institution)) fail("cosignatures", `cosignature ${i}: ${c.institution} cosigned twice`);
    seen.add(c.institution);
    const k = (m.keys || []).find((x) => x.key_id === c.key_id);
    if (!k || k.alg !== "ed25519") fail("cosignatures", `cosignature ${i}: ${c.institution} has no ed25519 key ${c.key_id}`);
    let sig;
    try {
      sig = b64urlDecode(c.sig);
    } catch (e) {
      fail("cosignatures", `cosignature ${i}: not base64url`);
    }
    if (!(await ed25519Verify(k.public, sig, msg))) fail("cosignatures", `cosignature ${i} by ${c.institution}: bad signature`);
  }
  return [seen.size, need, recorders.length];
}

// ---- certificates ------------------------------------------------------

export const VC_CONTEXT = "https://www.w3.org/ns/credentials/v2";

// certNo is "CC-<year in UTC+8>-<first 16 hex of the exit tx, upper case>".
export function certNo(exitTx, time) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?Z$/.exec(time);
  if (!m) return "";
  const ms = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) + 8 * 3600 * 1000;
  return `CC-${new Date(ms).getUTCFullYear()}-${exitTx.slice(0, 16).toUpperCase()}`;
}

// readJWS finds the compact JWS in a document as `creditchain cert verify`
// does: the JWS text, a JSON object's "jws" member, or an
// EnvelopedVerifiableCredential.
export function readJWS(text) {
  const t = text.trim();
  if (!t) throw new Error("empty document");
  if (!t.startsWith("{")) return t;
  const doc = JSON.parse(t);
  if (typeof doc.jws === "string") return doc.jws.trim();
  const prefix = "data:application/vc+jwt,";
  if (typeof doc.id === "string" && doc.id.startsWith(prefix)) return doc.id.slice(prefix.length);
  if (doc.credentialSubject) throw new Error("a bare credential JSON carries no signature; use the .jws file or the PDF");
  throw new Error('the JSON document has no "jws" member');
}

// jwsFromPDF finds the certificate.jws attachment of a PDF: every stream
// is read (inflated when /FlateDecode) and the one holding a compact JWS
// is taken. Embedded files are never inside object streams, so this
// also reads PDFs re-saved by other programs, unless they encrypt them.
export async function jwsFromPDF(bytes) {
  // windows-1252 decoding keeps one character per byte, so string
  // positions are byte positions.
  const text = new TextDecoder("latin1").decode(bytes);
  const jwsRe = /^eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
  const streamRe = /stream\r?\n/g;
  let m;
  const found = [];
  while ((m = streamRe.exec(text)) !== null) {
    if (text.slice(Math.max(0, m.index - 3), m.index) === "end") continue;
    const start = m.index + m[0].length;
    const end = text.indexOf("endstream", start);
    if (end < 0) break;
    streamRe.lastIndex = end + "endstream".length;
    const dict = text.slice(Math.max(0, text.lastIndexOf("obj", m.index)), m.index);
    let data = bytes.subarray(start, end);
    const len = /\/Length\s+(\d+)\b(?!\s+\d+\s+R)/.exec(dict);
    if (len && +len[1] <= data.length) {
      data = data.subarray(0, +len[1]);
    } else {
      let n = data.length;
      while (n > 0 && (data[n - 1] === 10 || data[n - 1] === 13)) n--;
      data = data.subarray(0, n);
    }
    if (/\/FlateDecode/.test(dict)) {
      try {
        data = await inflate(data);
      } catch (e) {
        continue;
      }
    }
    if (data.length > 1 << 20) continue;
    const s = new TextDecoder().decode(data).trim();
    if (jwsRe.test(s)) found.push({ s, embedded: /\/EmbeddedFile/.test(dict) });
  }
  const pick = found.find((f) => f.embedded) || found[0];
  if (!pick) throw new Error("the PDF carries no certificate.jws attachment");
  return pick.s;
}

async function inflate(data) {
  const ds = new DecompressionStream("deflate");
  const out = new Response(new Blob([data]).stream().pipeThrough(ds)).arrayBuffer();
  return new Uint8Array(await out);
}

// verifyCertificate runs the checks of docs/certificates.md on a compact
// JWS against the trust bundle, calling ok(name, detail) for each one
// passed; it throws a CheckError at the first failure and returns the
// credential when all pass.
export async function verifyCertificate(jws, trust, ok) {
  checkSuite(trust);
  const parts = jws.split(".");
  if (parts.length !== 3) fail("format", `not a compact JWS: ${parts.length} parts, want 3`);
  let header, payloadBytes, sig;
  try {
    header = JSON.parse(new TextDecoder().decode(b64urlDecode(parts[0])));
    payloadBytes = b64urlDecode(parts[1]);
    sig = b64urlDecode(parts[2]);
  } catch (e) {
    fail("format", "a part is not base64url-encoded JSON: " + e.message);
  }
  const keys = Object.keys(header).sort().join(",");
  if (keys !== "alg,kid,typ" || header.alg !== "Ed25519" || header.typ !== "vc+jwt") {
    fail("format", `protected header ${JSON.stringify(header)}, want exactly alg Ed25519, typ vc+jwt and kid`);
  }
  ok("format", "compact JWS, alg Ed25519");
  const issuer = trust.issuer;
  if (header.kid !== issuer.key_id || issuer.alg !== "ed25519") {
    fail("issuer_key", `unknown issuer key ${header.kid} (the trust bundle's issuer ${issuer.id} has key ${issuer.key_id})`);
  }
  ok("issuer_key", `${issuer.id} ${issuer.key_id}`);
  if (!(await ed25519Verify(issuer.public, sig, enc.encode(parts[0] + "." + parts[1])))) {
    fail("signature", "the JWS signature does not verify under the issuer key: the certificate was changed or not signed by the issuer");
  }
  ok("signature", "Ed25519");

  let cred;
  try {
    cred = JSON.parse(new TextDecoder().decode(payloadBytes));
  } catch (e) {
    fail("credential", "the payload is not JSON");
  }
  const cs = cred.credentialSubject || {};
  const ld = cs.ledger || {};
  const blk = ld.block || {};
  const h = blk.header || {};
  const tx = ld.tx || {};
  const p = tx.payload || {};
  const id = await txID(tx);
  const no = certNo(id, h.time || "");
  const types = cred.type || [];
  const checks = [
    [(cred["@context"] || [])[0] === VC_CONTEXT, `@context does not start with ${VC_CONTEXT}`],
    [types.includes("VerifiableCredential") && types.includes("CreditExitCertificate"), `type ${JSON.stringify(types)}`],
    [cred.issuer === "urn:creditchain:member:" + issuer.id, `issuer ${cred.issuer} is not the trust bundle's issuer`],
    [h.chain === trust.chain_id && tx.chain === trust.chain_id, `chain ${h.chain}, the trust bundle is for ${trust.chain_id}`],
    [tx.type === "record.exit", `the transaction is a ${tx.type}, not record.exit`],
    [p.record_id === (cs.record || {}).record_id, "the exit transaction ends another record"],
    [(cs.exit || {}).reason === p.reason, "the exit reason differs from the exit transaction's"],
    [(cs.exit || {}).time === h.time && cred.validFrom === h.time, "the exit time is not the block's time"],
    [cred.id === "urn:creditchain:cert:" + no, `id ${cred.id}, the exit gives ${no}`],
    [cs.id === (cs.subject || {}).code, "credentialSubject.id is not the subject's code"],
  ];
  for (const [good, why] of checks) if (!good) fail("credential", why);
  ok("credential", `${no}`);

  const epoch = epochOf(trust, h);
  await verifyTxSignature("exit_tx", tx, epoch, true);
  ok("exit_tx", `${tx.submitter}`);

  const inc = ld.inclusion || {};
  if (inc.tx_id !== id) fail("inclusion", `the proof is for ${inc.tx_id}, the exit transaction is ${id}`);
  if (inc.tree_size !== h.log_size || inc.root !== h.log_root) fail("inclusion", "the proof is not for the block's log");
  if (!(h.tx_count >= 1 && inc.leaf_index < h.log_size && inc.leaf_index >= h.log_size - h.tx_count)) {
    fail("inclusion", `leaf ${inc.leaf_index} is not among the block's transactions`);
  }
  if (!(await verifyInclusion(leafBytes(tx), inc.leaf_index, inc.tree_size, inc.proof || [], inc.root))) {
    fail("inclusion", "the proof does not lead from the exit transaction to the block's log root");
  }
  ok("inclusion", `${inc.leaf_index} / ${inc.tree_size}`);

  const hash = await checkBlockHash(blk);
  ok("block_hash", `${h.height} ${hash}`);
  ok("epoch", `${epoch.epoch}`);
  const [count, need, n] = await checkCosignatures(trust, epoch, blk);
  ok("cosignatures", `${count}`);
  if (count < need) fail("quorum", `${count} cosignatures, the quorum (${trust.quorum}) of ${n} recorders is ${need}`);
  ok("quorum", `${count} / ${need} (${n})`);
  return { cred, certNo: no };
}

// ---- page helpers ----------------------------------------------------

export async function getJSON(path, init) {
  const resp = await fetch(path, { headers: { Accept: "application/json" }, ...init });
  const body = await resp.json().catch(() => ({}));
  if (!resp.ok) {
    const e = new Error((body.error && body.error.message) || `${path}: ${resp.status}`);
    e.status = resp.status;
    throw e;
  }
  return body;
}

export function messages() {
  const el = document.getElementById("messages");
  return el ? JSON.parse(el.textContent) : {};
}

// Report writes checks into an <ol> and the verdict into a status element.
export class Report {
  constructor(statusEl, listEl, msgs) {
    this.status = statusEl;
    this.list = listEl;
    this.msgs = msgs;
    this.list.replaceChildren();
  }

  name(check) {
    return this.msgs["check." + check] || check;
  }

  add(check, good, detail) {
    const li = document.createElement("li");
    li.className = good ? "ok" : "bad";
    li.dataset.check = check;
    const mark = document.createElement("span");
    mark.className = "mark";
    mark.setAttribute("aria-hidden", "true");
    mark.textContent = good ? "✓" : "✗";
    const label = document.createElement("strong");
    label.textContent = this.name(check);
    const state = document.createElement("span");
    state.className = "visually-hidden";
    state.textContent = " " + (good ? this.msgs.passed : this.msgs.failed) + " ";
    li.append(mark, " ", label, state);
    if (detail) {
      const d = document.createElement("span");
      d.className = "detail";
      d.textContent = " — " + detail;
      li.append(d);
    }
    this.list.append(li);
  }

  verdict(state, text) {
    this.status.dataset.state = state;
    this.status.textContent = text;
  }

  failed(e) {
    const check = e instanceof CheckError ? e.check : "error";
    this.add(check, false, e.message);
    this.verdict("invalid", (this.msgs.invalid || "invalid") + ": " + this.name(check));
  }
}
