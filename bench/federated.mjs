// (c) The federated one-customer query through REST: MariaDB customers LEFT JOIN PostgreSQL orders
// LEFT JOIN MongoDB (FerretDB) events, for the internal role (no cache: every request runs the
// engine). The partner's grant on this view is cached and rate-limited (60/minute) in the reference
// config, so it is not a load-test subject. The engine's own sequential benchmark against the hub
// and the direct drivers is bench/federation/.
const KEY = { internal: 'vg_demo_internal_key' };

export async function federatedScenario({ url, http }) {
  const view = `${url}/api/v2/federation/_table/unified_customer_activity`;
  const internal = await http('c_rest_federated_one_customer', {
    url: `${view}?filter=${encodeURIComponent('customer_id = 4')}`,
    headers: { 'X-API-Key': KEY.internal },
  });
  return { internal: internal.rps };
}
