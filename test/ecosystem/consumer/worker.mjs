// Entry point on Cloudflare workerd: a worker that runs the scenario with the
// configuration POSTed to it and answers with the results. It uses the
// runtime's own fetch; its outbound traffic can reach loopback only.
import { run } from './scenario.mjs';

export default {
  async fetch(request) {
    return Response.json(await run(await request.json()));
  },
};
