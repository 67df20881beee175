"""Publishing a lockbench-result: submit, the leaderboard, the HTML report and pages, verify
(re-generation on the claimed model) and the regression gate (``lockbench check``)."""
