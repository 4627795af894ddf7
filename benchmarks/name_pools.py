"""What the labelled customer lists (benchmarks/people.py) are drawn from: names with the skewed
frequencies real lists have (a few very common, a long tail), towns with their postcodes and
dialling codes, streets, companies, and for Chinese names the characters typed by mistake for one
another (same pinyin, picked from the input method's list)."""
from __future__ import annotations

# English given names, most common first (drawn with Zipf-like weights). Many have nicknames in
# the `nicknames` package's curated list; a few have none, as in a real list.
GIVEN_EN = """
James John Robert Michael David William Richard Thomas Mary Patricia Jennifer Elizabeth Linda
Sarah Margaret Susan Jessica Karen Christopher Daniel Matthew Anthony Andrew Joseph Edward Peter
Katherine Rebecca Victoria Emily Charlotte Olivia Amelia Sophie Hannah Lucy Samuel Benjamin
Alexander Nicholas Jonathan Timothy Stephen Philip Gregory Harold Frederick Henry George Arthur
Charles Ronald Kenneth Donald Raymond Lawrence Douglas Albert Dorothy Barbara Helen Deborah
Catherine Christine Judith Eleanor Abigail Jacqueline Josephine Frances Theresa Veronica Alice
Caroline Natalie Rachel Laura Emma Chloe Grace Ella Isla Freya Ava Mia Jack Harry Oliver Noah
Leo Oscar Charlie Jacob Ethan Mason Lucas Finley Isaac Toby Adam Ryan Liam Owen Callum Connor
Priya Ahmed Fatima Mohammed Aisha Hiroshi Ingrid Pieter Siobhan Niamh Aoife Declan Rhys Gareth
Bethan Ewan Fiona Morag Kirsty Alistair Hamish Imran Sanjay Anjali Ravi Nadia Omar Zara Yusuf
""".split()

FAMILY_EN = """
Smith Jones Williams Taylor Brown Davies Evans Wilson Thomas Johnson Roberts Robinson Thompson
Wright Walker White Edwards Hughes Green Hall Lewis Harris Clarke Patel Jackson Wood Turner
Martin Cooper Hill Ward Morris Moore Clark Lee King Baker Harrison Morgan Allen James Scott
Phillips Watson Davis Parker Price Bennett Young Griffiths Mitchell Kelly Cook Carter Richardson
Bailey Collins Bell Shaw Murphy Miller Cox Richards Khan Marshall Anderson Simpson Ellis Adams
Singh Begum Wilkinson Foster Chapman Powell Webb Rogers Gray Mason Ali Hunt Hussain Campbell
Matthews Owen Palmer Holmes Mills Barnes Knight Lloyd Butler Russell Barker Fisher Stevens
Jenkins Murray Dixon Harvey Graham Pearson Ahmed Fletcher Walsh Kaur Gibson Howard Andrews
Stewart Elliott Reynolds Saunders Payne Fox Ford Pearce Day Brooks West Lawrence Cole Atkinson
Bradley Spencer Gill Dawson Ball Burton O'Brien Watts Rose Booth Perry Ryan Grant Wells Armstrong
Francis Rees Hayes Hart Hudson Newman Barrett Webster Hunter Gregory Carr Lowe Page Marsh Riley
Dunn Woods Parsons Berry Stone Reid Holland Hawkins Harding Porter Robertson Newton Oliver Reed
Kennedy Williamson Bird Gardner Shah Dean Lane Cooke Bates Henderson Parry Burgess Bishop Walton
Burns Nicholson Shepherd Ross Cross Long Freeman Warren Nicholls Hamilton Byrne Sutton McDonald
Yates Hodgson Robson Curtis Hopkins O'Connor Harper Coleman Watkins Moss McCarthy Chambers
Nakamura Natarajan Kowalski Rossi Dubois Novak Fernandes Okafor Mensah MacLeod
""".split() + ["van der Berg"]
# The long tail: family names rare enough that two people sharing one means something.
FAMILY_TAILS = ["", "son", "er", "ley", "ton", "well", "wood", "ford", "field", "worth", "by",
                "more", "ridge", "ham", "croft", "dale"]

# The names shared by many different people: the hard negatives "same name, different person".
COMMON_EN = [("John", "Smith"), ("David", "Jones"), ("Michael", "Brown"), ("Sarah", "Williams"),
             ("James", "Taylor"), ("Mohammed", "Khan"), ("Emma", "Wilson")]

SURNAMES_ZH = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭肖田董袁潘"
                   "于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦"
                   "邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严武戴莫孔向汤")
# Given-name characters, grouped by the syllable they are typed as (or one the input method
# confuses with it: lin / ling): a slip of the input method picks another character of the
# same group (伟 / 维 / 玮).
HOMOPHONES_ZH = [
    "伟维玮薇", "芳方舫", "静晶婧菁", "丽莉俐", "敏民旻", "华桦骅", "军君钧", "杰洁婕", "婷亭庭",
    "明铭鸣", "红宏虹鸿", "玲琳林灵", "燕艳雁", "勇永咏", "涛韬", "斌彬滨", "辉慧惠", "磊蕾雷",
    "洋阳杨", "娟鹃", "英瑛莹颖", "平萍苹", "刚钢", "兰岚澜", "梅玫", "峰锋枫丰", "健建剑",
    "波博", "鹏朋", "宇雨羽玉瑜", "晨辰琛", "浩昊皓", "欣鑫馨心", "怡宜仪艺毅", "佳嘉家",
    "思斯", "子梓紫", "涵晗寒", "轩萱宣", "文雯闻", "晓筱小", "琪琦祺淇", "悦月越玥",
    "秀", "霞", "桂", "海", "雪", "强", "超", "娜", "凯", "龙", "飞", "亮", "俊",
]
GIVEN_ZH = [c for group in HOMOPHONES_ZH for c in group]
COMMON_ZH = [("张", "伟"), ("王", "芳"), ("李", "娜"), ("王", "伟"), ("刘", "洋"), ("李", "静"),
             ("张", "敏")]

# Town, postcode area, dialling code (national significant digits) and its grouping.
TOWNS_GB = [("London", "N", "20", (2, 4, 4)), ("London", "SE", "20", (2, 4, 4)),
            ("London", "E", "20", (2, 4, 4)), ("Leeds", "LS", "113", (3, 3, 4)),
            ("Manchester", "M", "161", (3, 3, 4)), ("Birmingham", "B", "121", (3, 3, 4)),
            ("Bristol", "BS", "117", (3, 3, 4)), ("Glasgow", "G", "141", (3, 3, 4)),
            ("Edinburgh", "EH", "131", (3, 3, 4)), ("Cardiff", "CF", "29", (2, 4, 4)),
            ("York", "YO", "1904", (4, 6)), ("Oxford", "OX", "1865", (4, 6)),
            ("Cambridge", "CB", "1223", (4, 6)), ("Bath", "BA", "1225", (4, 6))]
STREETS_GB = """
High Church Station Victoria Green Manor Park Queen's King's New School Grange Chapel Orchard
Albert Main Springfield Windsor Highfield York London Elm Oak Beech Cedar Willow Ash Maple Mill
Meadow Brook Bridge Castle Abbey Priory Rectory Vicarage Farm Hill Valley Forest Heath Moor
Marsh Common Market Water Well Spring North South East West Mount Clarence Stanley Belmont
Cromwell Nelson Wellington Salisbury Devonshire Cavendish Grosvenor Howard Beaufort Lansdowne
""".split()
# A street type and how people shorten it.
STREET_TYPES_GB = {"Street": "St", "Road": "Rd", "Avenue": "Ave", "Lane": "Ln", "Drive": "Dr",
                   "Close": "Cl", "Crescent": "Cres", "Place": "Pl", "Gardens": "Gdns",
                   "Terrace": "Terr", "Court": "Ct", "Grove": "Gr"}

# City, its districts, its dialling code (and grouping).
CITIES_ZH = [("上海市", ["浦东新区", "徐汇区", "静安区", "黄浦区", "长宁区", "闵行区"], "21"),
             ("北京市", ["朝阳区", "海淀区", "东城区", "西城区", "丰台区"], "10"),
             ("杭州市", ["西湖区", "上城区", "滨江区", "拱墅区"], "571"),
             ("广州市", ["天河区", "越秀区", "海珠区", "白云区"], "20"),
             ("深圳市", ["南山区", "福田区", "罗湖区", "宝安区"], "755"),
             ("成都市", ["武侯区", "锦江区", "青羊区", "成华区"], "28")]
ROADS_ZH = list("人民 中山 解放 建设 和平 长江 黄河 世纪 张杨 南京 淮海 延安 文化 新华 胜利 青年 "
                "光明 幸福 东方 朝阳 复兴 迎宾 学院 滨江 金桥 花园 体育 天目 曙光 凤凰 "
                "银河 海宁 江南 龙华 望京 科技 创业 白石 梅林 红岭".split())
ROAD_TYPES_ZH = ["路", "路", "路", "街", "大道"]

WORDS_EN = """
Northwind Blue Harbour Red Kite Silver Birch Green Leaf Oak Tree Riverside Hilltop Lakeside
Sunrise Evergreen Bluebell Foxglove Kingfisher Heron Lotus Ember Granite Cobalt Saffron Juniper
""".split()
INDUSTRIES_EN = ["Yoga", "Bakery", "Consulting", "Builders", "Design", "Trading", "Dental",
                 "Fitness", "Florist", "Motors", "Studio", "Catering", "Joinery", "Pilates",
                 "Accountants", "Interiors", "Print", "Coffee"]
# A legal form, and the ways the same company's form gets written.
FORMS_EN = {"Ltd": ["Limited", "Ltd.", ""], "Limited": ["Ltd", "Ltd.", ""],
            "PLC": ["P.L.C.", "Public Limited Company"], "LLP": ["L.L.P.", ""],
            "& Co": ["and Co", "& Co.", ""], "": ["Ltd"]}
CORES_ZH = list("晨光 青柠 华美 金鼎 宏达 新锐 万象 恒信 佳禾 蓝海 瑞丰 远航 明珠 天成 "
                "盛世 安和 博雅 鸿运 东升 嘉禾".split())
INDUSTRIES_ZH = ["贸易", "瑜伽", "科技", "餐饮", "文化传播", "健身", "咨询", "装饰", "教育", "花艺"]
FORMS_ZH = {"有限公司": ["公司", "有限责任公司", ""], "有限责任公司": ["有限公司", ""],
            "工作室": [""], "": ["有限公司"]}

TITLES_EN = ["Owner", "Buyer", "Manager", "Director", "Head of Purchasing", "Office Manager"]
TITLES_ZH = ["经理", "采购", "总监", "老板", "店长", "行政主管"]
