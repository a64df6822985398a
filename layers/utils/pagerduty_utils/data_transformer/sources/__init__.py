"""Pydantic models of the AWS alert sources the forwarder understands, and of the custom application event.

One module per source family (``alarms``, ``findings`` for GuardDuty and Security Hub, ``health``, ``custom``,
``sns``, ``workflows`` for Step Functions, Glue and Backup, ``deployments`` for CodePipeline, CodeBuild,
CodeDeploy and CloudFormation, ``infrastructure`` for ECS, RDS and Auto Scaling, ``security`` for Inspector,
Config and CloudTrail) over the shared parts in ``base``.

Envelopes come from Powertools (``EventBridgeModel``, ``SnsNotificationModel``); the ``detail`` of each event and
the CloudWatch alarm notification are modelled here because Powertools has no parser model for them. Models
accept unknown fields (AWS adds fields over time) except the custom application event, whose documented fields
are a contract: a misspelt ``dedup_key`` must fail loudly rather than open an alert that never resolves.

Every timestamp becomes an aware UTC datetime: AWS mixes ISO 8601 (``...Z``, ``...+0000``) and, in AWS Health,
RFC 1123 (``Fri, 27 Nov 2026 03:52:00 GMT``).
"""
