"""Everything that touches MongoDB or runs in the background: driver, repositories, job queue, event hub,
usage ledger and billing pipelines, the simulated Webex engine."""
