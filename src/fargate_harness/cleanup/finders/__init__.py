"""The sweep's finders and deleters, one module per AWS service (:data:`fargate_harness.cleanup.kinds.KINDS`
puts them in deletion order)."""
