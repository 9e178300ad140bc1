"""How much the demo holds, per org (gateway/demo.py and its feature scenes in gateway/demo_extras).

The core demo: the partner "Demo Telecom" owns 20 customers (130 subscribers), its active sub-partner "Northwind
Resellers" (sub_a) 6 (39 subscribers), its suspended sub-partner "Contoso Connect" (sub_b) 4 (26 subscribers).
The scenes add customers to show their features: attach (5 for the partner, 1 for Northwind), add-ons and
background work (2), templates (1) and workspaces (1 for the partner, 1 for Northwind), with their subscribers.
"""

from __future__ import annotations

PARENT_CUSTOMERS = 28
SUB_A_CUSTOMERS = 8
SUB_B_CUSTOMERS = 4
PARENT_SUBSCRIBERS = 144
SUB_A_SUBSCRIBERS = 39
SUB_B_SUBSCRIBERS = 26
