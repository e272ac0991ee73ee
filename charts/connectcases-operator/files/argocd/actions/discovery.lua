-- Argo CD actions of a CaseFieldUpdate (cases.connectcases.dev):
--   reapply  asks the operator to apply the spec again now; while the object
--            is paused the request waits for resume
--   pause    stops every AWS call for the object (disabled when paused)
--   resume   lets the operator reconcile it again (enabled only when paused)
-- The operator treats the object as paused when the annotation
-- cases.connectcases.dev/paused is exactly "true".
local actions = {}
local paused = false
if obj.metadata.annotations ~= nil and obj.metadata.annotations["cases.connectcases.dev/paused"] == "true" then
  paused = true
end
actions["reapply"] = {["iconClass"] = "fa fa-fw fa-redo", ["disabled"] = false}
actions["pause"] = {["iconClass"] = "fa fa-fw fa-pause-circle", ["disabled"] = paused}
actions["resume"] = {["iconClass"] = "fa fa-fw fa-play-circle", ["disabled"] = not paused}
return actions
