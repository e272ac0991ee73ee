-- Resumes a paused CaseFieldUpdate: removes cases.connectcases.dev/paused.
local annotations = obj.metadata.annotations
if annotations ~= nil then
  annotations["cases.connectcases.dev/paused"] = nil
  -- Argo CD turns an empty table into an empty list and then keeps the live
  -- annotations, pause included: drop the table instead, so that the patch
  -- removes the annotation.
  if next(annotations) == nil then
    obj.metadata.annotations = nil
  end
end
return obj
