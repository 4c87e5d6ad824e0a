"""The programme a patient takes home: the printable PDF of their plan.

It sits above the domain apps because it needs all three: the plan and its exercises (plans), the exercise
library's pictures (conditions), and the "when to get help now" card written from the screening rules
(tracker). plans may not import tracker, so the PDF could not be built inside plans.
"""
