// (c) The federated one-customer query: TODO until the reference config has the federated view
// (the embedded engine has landed; its sequential benchmark is bench/federation/). When
// `services.federation.views.unified_customer_activity` exists in examples/reference/viewgate.yaml,
// replace the body with:
//
//   return http('c_rest_federated_one_customer', {
//     url: `${url}/api/v2/federation/_table/unified_customer_activity?filter=${encodeURIComponent('customer_id = 3')}`,
//     headers: { 'X-API-Key': KEYS.internal },
//   });
//
// plus the same query for the external role (tenant t2, customer 1) to measure the row filter.
export async function federatedScenario({ url }) {
  const r = await fetch(`${url}/api/v2/federation/_table`, { headers: { 'X-API-Key': 'vg_demo_internal_key' } });
  const available = r.status === 200;
  const note = available
    ? 'the federation service exists now: implement this scenario (bench/federated.mjs)'
    : 'TODO: the reference config has no federated view yet';
  console.error(`c_federated_one_customer: ${note}`);
  return { todo: true, note };
}
