"""The demo's feature scenes, run in this order after the core demo is seeded (see gateway/demo_scene.py).

Each feature adds its module here and one entry to SCENES.
"""

from __future__ import annotations

from gateway.demo_extras import attach, bulk, locations, subscribers, templates, workspaces
from gateway.demo_extras import customer_orgs as resale_orgs
from gateway.demo_extras import orders as resale_orders
from gateway.demo_extras import shipments as device_shipments
from gateway.demo_extras import trials as resale_trials
from gateway.demo_extras import webhooks as signed_webhooks
from gateway.demo_scene import Scene

SCENES: list[Scene] = [attach.scene, templates.scene, locations.scene, subscribers.scene, workspaces.scene,
                       bulk.scene, resale_orgs.scene, device_shipments.scene]
SCENES.append(resale_orders.scene)  # §12: orders at every step
SCENES.append(signed_webhooks.scene)  # R-NOT-7…10: an active and a 410-disabled endpoint
SCENES.append(resale_trials.scene)  # §10: trials in every state for Fjord Cloud Resale and Lagoon
