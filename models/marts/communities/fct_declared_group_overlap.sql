-- How each declared group lines up with the detected communities at the latest
-- snapshot: one row per (declared group, detected community) sharing members, with
-- the share of the group inside the community and their Jaccard overlap. A declared
-- group "matches" a community when the Jaccard overlap is at least
-- var('declared_group_match_min_jaccard') (0.5); loose large groups spread over many
-- communities and match none.
with

members as (
    select * from {{ ref('int_group_members_weekly') }}
),

runs as (
    select * from {{ ref('stg_communities__snapshot_runs') }}
),

latest as (
    select max(snapshot_date) as snapshot_date from runs
),

current_members as (
    select members.*
    from members
    inner join latest on members.snapshot_date = latest.snapshot_date
),

declared as (
    select
        substr(community_id, 7) as group_id,
        user_id,
    from current_members
    where group_kind = 'declared'
),

detected as (
    select
        community_id,
        user_id,
    from current_members
    where group_kind = 'detected'
),

declared_sizes as (
    select
        group_id,
        count(*) as count_group_members,
    from declared
    group by group_id
),

detected_sizes as (
    select
        community_id,
        count(*) as count_community_members,
    from detected
    group by community_id
),

shared as (
    select
        declared.group_id,
        detected.community_id,
        count(*) as count_shared_members,
    from declared
    inner join detected on declared.user_id = detected.user_id
    group by all
),

final as (
    select
        shared.group_id,
        shared.community_id,
        (select latest.snapshot_date from latest) as snapshot_date,
        declared_sizes.count_group_members,
        detected_sizes.count_community_members,
        shared.count_shared_members,
        shared.count_shared_members / declared_sizes.count_group_members
            as share_of_group_in_community,
        shared.count_shared_members
        / (
            declared_sizes.count_group_members + detected_sizes.count_community_members
            - shared.count_shared_members
        ) as jaccard,
        row_number() over (
            partition by shared.group_id
            order by shared.count_shared_members desc, shared.community_id asc
        ) = 1 as is_best_match_of_group,
    from shared
    inner join declared_sizes on shared.group_id = declared_sizes.group_id
    inner join detected_sizes on shared.community_id = detected_sizes.community_id
)

select
    *,
    jaccard >= {{ var('declared_group_match_min_jaccard') }} as is_matched,
from final
