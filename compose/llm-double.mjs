// TEST DOUBLE: an OpenAI-compatible /chat/completions endpoint for the docker e2e (no LLM is reachable
// there). Every request gets the same canned <observation> XML, as cmem_ops/e2e/fake_llm.py answers
// natively. It listens inside its container, on the compose network only; GET /stats counts requests
// (per client address).
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
const DELAY_MS = Number(process.env.LLM_DOUBLE_DELAY_MS ?? "150");  // lets several workers share a batch
Bun.serve({
  hostname: "0.0.0.0",
  port: 8080,
  async fetch(req, server) {
    const url = new URL(req.url);
    if (url.pathname === "/healthz") return new Response("ok");
    if (url.pathname === "/stats") return Response.json({ requests, byClient });
    if (req.method === "POST" && url.pathname.endsWith("/chat/completions")) {
      requests += 1;
      const client = server.requestIP(req)?.address ?? "unknown";
      byClient[client] = (byClient[client] ?? 0) + 1;
      await req.text();
      await Bun.sleep(DELAY_MS);
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
