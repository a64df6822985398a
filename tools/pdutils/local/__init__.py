"""The Docker-free local runtime: template.yaml's functions run as local processes against an embedded AWS.

Modules, one job each: ``template`` (read the SAM template), ``intrinsics`` (resolve Ref/GetAtt/Sub...),
``stack_resources`` (what each logical id is in a deployed stack), ``translate`` and ``provision`` (build the
stack's data resources in moto from the template itself), ``runner`` and ``worker`` (run a handler in its own
interpreter), ``api_server``, ``poller`` and ``scheduler`` (the event sources), ``local_stack`` (all of it).
"""
