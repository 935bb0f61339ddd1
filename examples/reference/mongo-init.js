// mongosh init script for docker-compose: seeds analytics.events from the shared demo data.
const docs = EJSON.parse(require('fs').readFileSync('/seed/events.json', 'utf8'));
db.getSiblingDB('analytics').events.insertMany(docs);
