// record.js — the record page's "verified" panel: the record's creating
// transaction is checked to be in the ledger's log (its own signature, its
// tx id, the inclusion proof to a block's log root), that block's header to
// hash to the block hash, and the block to be cosigned by a quorum of the
// recorders of its epoch in the trust bundle.
import {
  Report, checkBlockHash, checkCosignatures, checkSuite, epochOf, fail, getJSON, leafBytes,
  messages, txID, verifyInclusion, verifyTxSignature,
} from "./ccverify.js";

async function run(report, msgs) {
  const data = JSON.parse(document.getElementById("record-data").textContent);
  const proof = data.proof;
  const ok = (check, detail) => report.add(check, true, detail);
  const [trust, anchor, created] = await Promise.all([
    getJSON("/v1/ledger/trust"),
    getJSON(`/v1/ledger/blocks/${data.anchor}`),
    getJSON(`/v1/ledger/blocks/${data.created}`),
  ]);
  checkSuite(trust);
  if (anchor.header.chain !== trust.chain_id || created.header.chain !== trust.chain_id) {
    fail("format", `the blocks are of chain ${anchor.header.chain}, the trust bundle is for ${trust.chain_id}`);
  }
  ok("format", trust.chain_id);

  // The leaf: the creating transaction, at its place in its block.
  const h = created.header;
  const pos = proof.leaf_index - (h.log_size - h.tx_count);
  const env = created.txs[pos];
  if (!env || pos < 0) fail("transaction", `leaf ${proof.leaf_index} is not in block ${h.height}`);
  const id = await txID(env);
  if (id !== data.record_id || proof.tx_id !== data.record_id) {
    fail("transaction", `the transaction hashes to ${id}, the record is ${data.record_id}`);
  }
  ok("transaction", `${msgs.block || "block"} ${h.height}`);
  await verifyTxSignature("tx_signature", env, epochOf(trust, h), false);
  ok("tx_signature", env.submitter);

  const a = anchor.header;
  if (proof.tree_size !== a.log_size || proof.root !== a.log_root) {
    fail("inclusion", `the proof is for a tree of ${proof.tree_size}, block ${a.height} has ${a.log_size}`);
  }
  if (!(await verifyInclusion(leafBytes(env), proof.leaf_index, proof.tree_size, proof.proof, proof.root))) {
    fail("inclusion", "the proof does not lead from the transaction to the log root");
  }
  ok("inclusion", `${proof.leaf_index} / ${proof.tree_size}`);

  const hash = await checkBlockHash(anchor);
  ok("block_hash", `${a.height} ${hash.slice(0, 16)}…`);
  const epoch = epochOf(trust, a);
  ok("epoch", `${epoch.epoch}`);
  const [count, need, n] = await checkCosignatures(trust, epoch, anchor);
  ok("cosignatures", `${count}`);
  if (count < need) fail("quorum", `${count} cosignatures, the quorum (${trust.quorum}) of ${n} recorders is ${need}`);
  ok("quorum", `${count} / ${need} (${n})`);
  report.verdict("valid", msgs.verified);
}

const msgs = messages();
const report = new Report(document.getElementById("verify-status"), document.getElementById("verify-checks"), msgs);
report.verdict("pending", msgs.checking);
run(report, msgs).catch((e) => report.failed(e));
