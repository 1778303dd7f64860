"""twins_python.py: the basic twin and relationship lifecycle with Debian's
azure.digitaltwins.core, against a castor instance whose models twins-sdk.mjs uploaded.
Env: CASTOR_DT_ENDPOINT, CASTOR_DT_TOKEN, REQUESTS_CA_BUNDLE (castor's ca.pem)."""
import os
import sys
import time

from azure.core import MatchConditions
from azure.core.credentials import AccessToken
from azure.core.exceptions import (HttpResponseError, ResourceExistsError, ResourceModifiedError,
                                   ResourceNotFoundError)
from azure.digitaltwins.core import DigitalTwinsClient


class Token:
    def get_token(self, *scopes, **kwargs):
        return AccessToken(os.environ["CASTOR_DT_TOKEN"], int(time.time()) + 3600)


BUILDING = "dtmi:samples:DTTestBuilding;1"
FLOOR = "dtmi:samples:DTTestFloor;1"
client = DigitalTwinsClient(os.environ["CASTOR_DT_ENDPOINT"], Token())

twin = {"$metadata": {"$model": BUILDING}, "AverageTemperature": 20, "Component1": {"$metadata": {}}}
created = client.upsert_digital_twin("py-b", twin)
assert created["$dtId"] == "py-b", created
assert created["$metadata"]["$model"] == BUILDING
got = client.get_digital_twin("py-b")
assert got["AverageTemperature"] == 20

try:
    client.upsert_digital_twin("py-b", twin, match_condition=MatchConditions.IfMissing)
    sys.exit("If-None-Match: * on an existing twin should fail")
except ResourceExistsError as e:  # the SDK maps a 412 on create to ResourceExistsError
    assert e.status_code == 412

client.update_digital_twin("py-b", [{"op": "replace", "path": "/AverageTemperature", "value": 25}])
got = client.get_digital_twin("py-b")
assert got["AverageTemperature"] == 25
try:
    client.update_digital_twin("py-b", [{"op": "replace", "path": "/AverageTemperature", "value": 1}],
                               etag='W/"stale"', match_condition=MatchConditions.IfNotModified)
    sys.exit("a stale If-Match should fail")
except ResourceModifiedError as e:
    assert e.status_code == 412
client.update_digital_twin("py-b", [{"op": "replace", "path": "/AverageTemperature", "value": 26}],
                           etag=got["$etag"], match_condition=MatchConditions.IfNotModified)

client.upsert_digital_twin("py-f", {"$metadata": {"$model": FLOOR}, "name": "ground"})
rel = {"$relationshipId": "py-r", "$sourceId": "py-b", "$targetId": "py-f", "$relationshipName": "has"}
r = client.upsert_relationship("py-b", "py-r", rel)
assert r["$targetId"] == "py-f"
rels = list(client.list_relationships("py-b"))
assert [x["$relationshipId"] for x in rels] == ["py-r"], rels
rels = list(client.list_relationships("py-b", relationship_id="has"))
assert len(rels) == 1
incoming = list(client.list_incoming_relationships("py-f"))
assert incoming[0].source_id == "py-b", incoming
try:
    client.delete_digital_twin("py-f")
    sys.exit("deleting a twin with relationships should fail")
except HttpResponseError as e:
    assert e.status_code == 400 and e.error.code == "RelationshipsNotDeleted", e
client.delete_relationship("py-b", "py-r")
client.delete_digital_twin("py-f")
client.delete_digital_twin("py-b")
try:
    client.get_digital_twin("py-b")
    sys.exit("the twin should be gone")
except ResourceNotFoundError as e:
    assert e.error.code == "DigitalTwinNotFound"
print("ok")
