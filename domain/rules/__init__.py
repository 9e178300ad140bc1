"""Pure business rules: functions of plain values that decide, refuse or compute; no I/O, no asyncio."""
