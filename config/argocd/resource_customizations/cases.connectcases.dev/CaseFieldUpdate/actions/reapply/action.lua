-- Asks the operator to apply the spec of a CaseFieldUpdate again now, even
-- without a change: sets cases.connectcases.dev/reconcile-requested-at to the
-- current UTC time. The operator sends the spec once more and echoes the
-- value in status.lastHandledReconcileAt; on a paused object the request
-- waits until it is resumed.
-- Argo CD's action runtime offers os.time and os.date through require only.
local os = require("os")
local key = "cases.connectcases.dev/reconcile-requested-at"
if obj.metadata.annotations == nil then
  obj.metadata.annotations = {}
end
local token = os.date("!%Y-%m-%dT%H:%M:%SZ")
-- A second request within the same second must still change the value.
if obj.metadata.annotations[key] == token then
  token = token .. "-again"
end
obj.metadata.annotations[key] = token
return obj
