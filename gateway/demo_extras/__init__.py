"""The demo's feature scenes, run in this order after the core demo is seeded (see gateway/demo_scene.py).

Each feature adds its module here and one entry to SCENES.
"""

from __future__ import annotations

from gateway.demo_extras import attach, bulk, locations, subscribers, templates, workspaces
from gateway.demo_scene import Scene

SCENES: list[Scene] = [attach.scene, templates.scene, locations.scene, subscribers.scene, workspaces.scene,
                       bulk.scene]
