// TEST DOUBLE: an OpenAI-compatible /chat/completions endpoint for the docker e2e (no LLM is reachable
// there). Every request gets the same canned <observation> XML, as cmem_ops/e2e/fake_llm.py answers
// natively. It listens inside its container, on the compose network only; GET /stats counts requests
// (per client address). GET /hold makes every later request wait (up to HOLD_LIMIT_MS) until GET
// /release, so a worker can be killed while its job is `processing`; /stats says how many are held.
const OBSERVATION = `<observation>
  <type>discovery</type>
  <title>Test double observation</title>
  <subtitle>canned by cmem-ops' docker LLM double (a test double)</subtitle>
  <facts><fact>The worker called the test double</fact><fact>Parsing works</fact></facts>
  <narrative>The generation worker sent the event to the test double and parsed this reply.</narrative>
  <concepts><concept>how-it-works</concept></concepts>
  <files_read><file>src/app.py</file></files_read>
  <files_modified><file>src/app.py</file></files_modified>
</observation>`;
let requests = 0;
const byClient = {};  // remote address -> requests: which worker container asked
const byJob = {};  // generation job id (<generation_job_id> in the prompt) -> requests
const JOB_ID = /<generation_job_id>\s*([^<\s]+)\s*<\/generation_job_id>/;
const DELAY_MS = Number(process.env.LLM_DOUBLE_DELAY_MS ?? "150");  // lets several workers share a batch
const HOLD_LIMIT_MS = 120000;  // a held request is answered after this even if nobody releases it
let holding = false;
let held = 0;  // requests waiting now
let released = null;  // resolves the waiting requests
let gate = Promise.resolve();
Bun.serve({
  hostname: "0.0.0.0",
  port: 8080,
  async fetch(req, server) {
    const url = new URL(req.url);
    if (url.pathname === "/healthz") return new Response("ok");
    if (url.pathname === "/stats") return Response.json({ requests, byClient, byJob, holding, held });
    if (url.pathname === "/hold") {
      if (!holding) {
        holding = true;
        gate = new Promise((resolve) => { released = resolve; });
      }
      return Response.json({ holding });
    }
    if (url.pathname === "/release") {
      holding = false;
      if (released) released();
      return Response.json({ holding });
    }
    if (req.method === "POST" && url.pathname.endsWith("/chat/completions")) {
      requests += 1;
      const client = server.requestIP(req)?.address ?? "unknown";
      byClient[client] = (byClient[client] ?? 0) + 1;
      const job = JOB_ID.exec(await req.text())?.[1];
      if (job) byJob[job] = (byJob[job] ?? 0) + 1;
      await Bun.sleep(DELAY_MS);
      if (holding) {
        held += 1;
        await Promise.race([gate, Bun.sleep(HOLD_LIMIT_MS)]);
        held -= 1;
      }
      return Response.json({
        id: `test-double-${requests}`, object: "chat.completion", model: "test-double",
        choices: [{ index: 0, finish_reason: "stop", message: { role: "assistant", content: OBSERVATION } }],
        usage: { prompt_tokens: 10, completion_tokens: 10, total_tokens: 20 },
      });
    }
    return new Response("not found", { status: 404 });
  },
});
// As a container's pid 1 it gets no default signal action: exit on SIGTERM itself.
process.on("SIGTERM", () => process.exit(0));
console.log("llm-double listening on :8080");
