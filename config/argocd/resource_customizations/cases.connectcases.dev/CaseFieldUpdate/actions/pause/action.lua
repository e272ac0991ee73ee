-- Pauses a CaseFieldUpdate: with cases.connectcases.dev/paused set to "true"
-- the operator makes no AWS call for it until the annotation is removed.
if obj.metadata.annotations == nil then
  obj.metadata.annotations = {}
end
obj.metadata.annotations["cases.connectcases.dev/paused"] = "true"
return obj
