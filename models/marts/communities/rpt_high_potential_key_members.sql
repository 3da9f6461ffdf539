-- The key members to contact for each group of rpt_high_potential_communities, with why:
-- one row per ranked group and key member, at most
-- var('high_potential_key_members_per_group') per group, best first (contact_rank 1).
--   detected communities  the members fct_community_members flags is_key_member (top
--                         var('key_member_share') by key-member score with in-community
--                         PageRank >= var('key_member_min_pagerank')), ranked by that score
--   declared groups       their owners and admins (the declared key members of
--                         fct_community_health's key_member_active_share), ranked by the
--                         same score computed inside the group
--                         (int_declared_group_key_members_scored: in-group tie weight in
--                         place of PageRank, which exists for detected communities only)
-- The reason spells out the three figures behind the score: in-group centrality (PageRank
-- or tie weight, as a multiple of the group's mean), content (posts and comments over the
-- window) and invites (accepted over the window). A ranked group without key members
-- (no member passes the rule, or a declared group without owner or admin among its
-- members) has no row.
{{ require_var_value('community_window_days', 28, 'count_messages_4_weeks, count_invites_accepted_4_weeks') }}
with

ranked as (
    select * from {{ ref('rpt_high_potential_communities') }}
),

detected_members as (
    select * from {{ ref('fct_community_members') }}
),

declared_members as (
    select * from {{ ref('int_declared_group_key_members_scored') }}
),

detected_keys as (
    select
        ranked.potential_rank,
        ranked.snapshot_date,
        ranked.group_kind,
        ranked.community_id,
        detected_members.user_id,
        'key_member' as member_role,
        'pagerank' as centrality_measure,
        detected_members.key_member_score,
        detected_members.pagerank_in_community as centrality_in_group,
        detected_members.count_neighbours_inside,
        detected_members.share_inside,
        detected_members.count_messages_4_weeks,
        detected_members.count_invites_accepted_4_weeks,
    from ranked
    inner join detected_members
        on ranked.community_id = detected_members.community_id
    where ranked.group_kind = 'detected' and detected_members.is_key_member
),

declared_keys as (
    select
        ranked.potential_rank,
        ranked.snapshot_date,
        ranked.group_kind,
        ranked.community_id,
        declared_members.user_id,
        declared_members.member_role,
        'tie_weight' as centrality_measure,
        declared_members.key_member_score,
        declared_members.centrality_in_group,
        declared_members.count_neighbours_inside,
        declared_members.share_inside,
        declared_members.count_messages_4_weeks,
        declared_members.count_invites_accepted_4_weeks,
    from ranked
    inner join declared_members
        on
            ranked.community_id = declared_members.community_id
            and ranked.snapshot_date = declared_members.snapshot_date
    where ranked.group_kind = 'declared' and declared_members.member_role in ('owner', 'admin')
),

keys as (
    select * from detected_keys
    union all
    select * from declared_keys
),

numbered as (
    select
        keys.*,
        row_number() over (
            partition by keys.group_kind, keys.community_id
            order by {{ rank_key('keys.key_member_score') }} desc, keys.user_id asc
        ) as contact_rank,
    from keys
),

final as (
    select
        potential_rank,
        contact_rank,
        snapshot_date,
        group_kind,
        community_id,
        user_id,
        member_role,
        key_member_score,
        centrality_measure,
        centrality_in_group,
        count_neighbours_inside,
        share_inside,
        count_messages_4_weeks,
        count_invites_accepted_4_weeks,
        case when member_role = 'key_member' then 'key member' else member_role end
        || ': in-group centrality '
        || coalesce(round(centrality_in_group, 1) || 'x the group mean', 'n/a')
        || ' (' || case centrality_measure when 'pagerank' then 'PageRank' else 'tie weight' end
        || ', ' || count_neighbours_inside || ' neighbours inside'
        || coalesce(', ' || cast(round(100 * share_inside) as integer) || '% of ties inside', '')
        || '); content ' || count_messages_4_weeks || ' posts and comments in 4 weeks'
        || '; invites ' || count_invites_accepted_4_weeks || ' accepted in 4 weeks'
            as reason,
    from numbered
    where contact_rank <= {{ var('high_potential_key_members_per_group') }}
)

select * from final
